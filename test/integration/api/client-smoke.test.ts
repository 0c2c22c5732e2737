import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiError, CachixApi } from '../../../src/api/client.js';
import { formatPublicKeyNix, generateSecretKey } from '../../../src/nix/keys.js';
import { prepareNar } from '../../support/nar-fixture.js';
import { describeNix } from '../../support/nix/available.js';
import { makeTestClosure, type TestClosure } from '../../support/nix/closure.js';
import { makeTempStore, removeStore, substituteInto } from '../../support/nix/substitute.js';
import { startStandIn, type StandIn } from '../../support/standin/index.js';

const PART = 5 * 1024 * 1024;
const fastRetry = { baseMs: 1, capMs: 5, budgetMs: 200 };

describeNix('API client multipart calls against the stand-in, judged by real Nix', () => {
  let server: StandIn;
  let closure: TestClosure;
  const key = generateSecretKey();
  const other = generateSecretKey();

  beforeAll(async () => {
    server = await startStandIn();
    closure = await makeTestClosure({ bigMB: 12 });
  });
  afterAll(async () => server?.close());

  /** create -> (part URL -> PUT)* -> complete, exactly the calls `push` makes. */
  async function upload(api: CachixApi, cache: string, storePath: string) {
    const nar = await prepareNar(storePath, { key });
    const created = await api.createMultipart(cache, 'zst');
    const parts = [];
    for (let offset = 0, n = 1; offset < nar.compressed.length; offset += PART, n++) {
      const body = nar.compressed.subarray(offset, offset + PART);
      const md5 = createHash('md5').update(body).digest('base64');
      const url = await api.partUploadUrl(cache, created, n, md5);
      parts.push({ partNumber: n, eTag: (await api.uploadPart(url, Buffer.from(body), body.length, md5))! });
    }
    await api.completeMultipart(cache, created, { parts, narInfoCreate: nar.info });
    return parts.length;
  }

  it('uploads signed NARs (one of several parts) that Nix substitutes with the key trusted and refuses with another', async () => {
    const cache = await server.addCache({ name: 'smoke', publicKey: formatPublicKeyNix(key.publicKey, 'smoke.cachix.org-1') });
    const api = new CachixApi({ host: server.apiUrl, token: undefined, retry: fastRetry });
    try {
      const missing = await api.missingHashes('smoke', [...closure.paths, closure.big!].map((p) => p.slice(11, 43)));
      expect(missing).toHaveLength(closure.paths.length + 1);
      for (const path of closure.paths) await upload(api, 'smoke', path);
      expect(await upload(api, 'smoke', closure.big!)).toBeGreaterThan(1);
      expect(await api.missingHashes('smoke', closure.paths.map((p) => p.slice(11, 43)))).toEqual([]);
    } finally {
      await api.close();
    }
    // The client never sent an Authorization header to a presigned URL, and the empty bearer to the
    // API (`Bearer ` on the wire; HTTP parsers trim the trailing space).
    expect(server.log.filter((e) => e.route === 'upload').every((e) => e.headers.authorization === undefined)).toBe(true);
    expect(server.log.filter((e) => e.route === 'api').map((e) => String(e.headers.authorization).trim())).toEqual(
      server.log.filter((e) => e.route === 'api').map(() => 'Bearer'),
    );
    expect(server.log.every((e) => e.route === 'nix' || /^cachix 1\.11\.1 \(cachix-ts \d+\.\d+\.\d+\)$/.test(String(e.headers['user-agent'])))).toBe(true);

    for (const [keys, ok] of [[[formatPublicKeyNix(key.publicKey, 'smoke.cachix.org-1')], true], [[formatPublicKeyNix(other.publicKey, 'smoke.cachix.org-1')], false]] as const) {
      const store = await makeTempStore();
      try {
        const result = await substituteInto(store, [closure.top, closure.big!], { substituter: cache.uri, publicKeys: keys });
        expect(result.code === 0, result.stderr).toBe(ok);
      } finally {
        await removeStore(store);
      }
    }
  });

  it('maps a missing cache to the real client message and does not retry it', async () => {
    const api = new CachixApi({ host: server.apiUrl, token: 'some-token', retry: fastRetry });
    const before = server.log.length;
    await expect(api.getCache('nope')).rejects.toThrow('Binary cache nope does not exist.');
    await expect(api.getCache('nope')).rejects.toBeInstanceOf(ApiError);
    expect(server.log.length - before).toBe(2);
    await api.close();
  });
});
