import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSha256, sha256Nix } from '../../../src/nix/base32.js';
import { fingerprint } from '../../../src/nix/fingerprint.js';
import { formatPublicKeyNix, parsePublicKeyNix, parseSecretKey, signBytes, verifyBytes, type SecretKey } from '../../../src/nix/keys.js';
import { tempDir } from '../config/fake-context.js';

const exec = promisify(execFile);
const haveNix = existsSync('/usr/bin/nix-store') && existsSync('/usr/bin/nix');

interface PathInfo {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
  signatures?: string[];
}

async function nixOut(command: string, args: string[], cwd?: string): Promise<string> {
  return (await exec(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
}

/** Signs with real Nix (`nix store sign`) and returns what Nix then reports for the path. */
async function signWithNix(path: string, keyFile: string): Promise<PathInfo> {
  await nixOut('nix', ['store', 'sign', '--key-file', keyFile, path]);
  const info = JSON.parse(await nixOut('nix', ['path-info', '--sigs', '--json', path])) as PathInfo[];
  return info[0]!;
}

describe.skipIf(!haveNix)('signatures match real Nix', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let keyName: string;
  let key: SecretKey;
  let nixPublicKey: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    // A fresh key name per run, so signatures left on store paths by earlier runs never match.
    keyName = `cachix-ts-test-${randomBytes(4).toString('hex')}-1`;
    await nixOut('nix-store', ['--generate-binary-cache-key', keyName, 'sk', 'pk'], dir);
    key = parseSecretKey(await readFile(join(dir, 'sk'), 'utf8'), 'nix-store --generate-binary-cache-key');
    nixPublicKey = (await readFile(join(dir, 'pk'), 'utf8')).trim();
  });
  afterAll(async () => cleanup());

  it('reads a Nix-generated secret key and derives the same public key', () => {
    expect(key.name).toBe(keyName);
    expect(formatPublicKeyNix(key.publicKey, keyName)).toBe(nixPublicKey);
  });

  async function expectSameSignature(info: PathInfo): Promise<void> {
    const narHash = sha256Nix(parseSha256(info.narHash));
    const ours = `${keyName}:${signBytes(key, fingerprint(info.path, narHash, info.narSize, info.references)).toString('base64')}`;
    const nixSigs = (info.signatures ?? []).filter((s) => s.startsWith(`${keyName}:`));
    expect(nixSigs).toEqual([ours]);
    const publicKey = parsePublicKeyNix(nixPublicKey);
    const raw = Buffer.from(ours.slice(keyName.length + 1), 'base64');
    expect(verifyBytes(publicKey.key, fingerprint(info.path, narHash, info.narSize, info.references), raw)).toBe(true);
  }

  it('on a content-addressed path without references (nix-store --add)', async () => {
    const file = join(dir, 'payload.txt');
    await writeFile(file, `cachix-ts signature test ${randomBytes(8).toString('hex')}\n`);
    const path = await nixOut('nix-store', ['--add', file]);
    await expectSameSignature(await signWithNix(path, join(dir, 'sk')));
  });

  it('on input-addressed paths with a reference and a self-reference', async () => {
    const salt = randomBytes(8).toString('hex');
    const expression = `
      let mk = name: script: derivation {
            inherit name; system = builtins.currentSystem;
            builder = "/bin/sh"; args = [ "-c" script ]; PATH = "/usr/bin:/bin"; };
          leaf = mk "cachix-ts-sig-leaf" "echo ${salt} > $out";
      in mk "cachix-ts-sig-top" "mkdir $out; echo \${leaf} > $out/dep; echo $out > $out/self"`;
    await writeFile(join(dir, 'sig.nix'), expression);
    const top = await nixOut('nix-build', [join(dir, 'sig.nix'), '--no-out-link'], dir);
    const info = await signWithNix(top, join(dir, 'sk'));
    expect(info.references).toHaveLength(2);
    expect(info.references).toContain(top);
    await expectSameSignature(info);
  });
});
