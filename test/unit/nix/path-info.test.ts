import { describe, expect, it } from 'vitest';
import { parsePathInfoJson } from '../../../src/nix/store.js';

const P = '/nix/store/gygzq7x5ccb9n90zqba0gcd8a2z1sag1-cachix-test-top';
const R = '/nix/store/njjmw57fyw8pfgy9b8zb7y0996w7xr18-cachix-test-link';
const SRI = 'sha256-46qOiDD/xErHGK4KvzhSK1h3yyVqUxAWpJmllRe4Isw=';

describe('parsePathInfoJson', () => {
  it('reads the array form of Nix <= 2.18 and converts SRI hashes to sha256:base32', () => {
    const text = JSON.stringify([{ path: P, narHash: SRI, narSize: 1048, references: [R, P], deriver: '/nix/store/ibbv9bmh3aw4cmwcqbp1p180c6znjph7-cachix-test-top.drv' }]);
    const [info] = parsePathInfoJson(text);
    expect(info!.path).toBe(P);
    expect(info!.narHash).toMatch(/^sha256:[0-9a-z]{52}$/);
    expect(info!.narSize).toBe(1048);
    expect(info!.references).toEqual([P, R].sort());
    expect(info!.deriver).toMatch(/\.drv$/);
  });

  it('reads the object form of Nix >= 2.19 (keyed by path, null for invalid paths)', () => {
    const text = JSON.stringify({ [P]: { narHash: SRI, narSize: 1048, references: [R], deriver: null }, '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x': null });
    const infos = parsePathInfoJson(text);
    expect(infos.map((i) => i.path)).toEqual([P]);
    expect(infos[0]!.deriver).toBeUndefined();
  });

  it('reads the versioned envelope with base names and structured hashes', () => {
    const text = JSON.stringify({
      version: 2,
      storeDir: '/nix/store',
      info: { [P.slice(11)]: { narHash: { algorithm: 'sha256', format: 'base64', hash: SRI.slice(7) }, narSize: 1048, references: [R.slice(11)] } },
    });
    const [info] = parsePathInfoJson(text);
    expect(info!.path).toBe(P);
    expect(info!.references).toEqual([R]);
  });

  it('gives the same hash for SRI and base32 input', () => {
    const a = parsePathInfoJson(JSON.stringify([{ path: P, narHash: SRI, narSize: 1, references: [] }]))[0]!;
    const b = parsePathInfoJson(JSON.stringify([{ path: P, narHash: a.narHash, narSize: 1, references: [] }]))[0]!;
    expect(b.narHash).toBe(a.narHash);
  });

  it('rejects output that is not JSON with a clear error', () => {
    expect(() => parsePathInfoJson('error: oops')).toThrow(/not JSON/);
  });
});
