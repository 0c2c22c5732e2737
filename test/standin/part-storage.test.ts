import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { generateSecretKey, type SecretKey } from '../../src/nix/keys.js';
import { prepareNar, type PreparedNar } from '../support/nar-fixture.js';
import { describeNix, isValidIn, itNix as it, makeTempStore, makeTestClosure, removeStore, substituteInto } from '../support/nix.js';
import { IN_MEMORY_PART_BYTES } from '../support/standin/store.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { call, complete, uploadParts, type UploadPlan } from './raw-client.js';

// Parts up to IN_MEMORY_PART_BYTES stay in memory, larger ones go to files: a NAR split into
// one large and one small part crosses both, and every check must hold either way.
const PART = IN_MEMORY_PART_BYTES + 512 * 1024;

describeNix('stand-in part storage: in memory and in files', () => {
  let s: StandIn;
  let key: SecretKey;
  let big: PreparedNar;
  const plan = (nar: PreparedNar, partSize: number): UploadPlan => ({
    apiUrl: s.apiUrl,
    cache: 'mixed',
    token: 'writer',
    compressed: nar.compressed,
    compression: nar.compression,
    partSize,
  });
  const leftovers = () => [...readdirSync(join(s.dataDir, 'uploads')), ...readdirSync(join(s.dataDir, 'tmp'))];

  beforeAll(async () => {
    s = await startStandIn({ minPartSize: IN_MEMORY_PART_BYTES });
    key = generateSecretKey('mixed.cachix.org-1');
    await s.addCache({ name: 'mixed', publicKey: `mixed.cachix.org-1:${key.publicKey.toString('base64')}` });
    s.addToken('writer', { mixed: 'Write' });
    big = await prepareNar((await makeTestClosure({ bigMB: 4 })).big!, { key });
    expect(big.compressed.length).toBeGreaterThan(PART);
    expect(big.compressed.length).toBeLessThan(PART + IN_MEMORY_PART_BYTES);
  });
  afterAll(() => s.close());

  it('refuses a wrong NarHash for a NAR assembled from a file part and a memory part, leaving nothing behind', async () => {
    const up = await uploadParts(plan(big, PART));
    expect(up.parts).toHaveLength(2);
    expect(readdirSync(join(s.dataDir, 'uploads'))).toHaveLength(1); // the large part's directory
    const wrong = { ...big.info, cNarHash: 'sha256:0000000000000000000000000000000000000000000000000000' };
    const res = await complete(plan(big, PART), up, { parts: up.parts, narInfoCreate: wrong });
    expect(res.status).toBe(400);
    expect(res.text).toContain('cNarHash');
    expect(s.listNarinfos('mixed')).toEqual([]);
    const abort = await call('POST', `${s.apiUrl}/api/v1/cache/mixed/multipart-nar/${up.narId}/abort?uploadId=${encodeURIComponent(up.uploadId)}`, { token: 'writer' });
    expect(abort.status).toBe(200);
    expect(leftovers()).toEqual([]);
  });

  it('publishes the mixed upload and an all-in-memory one of the same path; Nix accepts the result', async () => {
    for (const partSize of [PART, IN_MEMORY_PART_BYTES]) {
      const up = await uploadParts(plan(big, partSize));
      const res = await complete(plan(big, partSize), up, { parts: up.parts, narInfoCreate: big.info });
      expect(res.status, res.text).toBe(200);
    }
    expect(s.listNarinfos('mixed')).toEqual([big.info.cStoreHash]);
    expect(leftovers()).toEqual([]);
    const dir = await makeTempStore();
    try {
      const cache = s.cache('mixed')!;
      const result = await substituteInto(dir, [big.storePath], { substituter: cache.uri, publicKeys: cache.publicSigningKeys });
      expect(result.code, result.stderr).toBe(0);
      expect(await isValidIn(dir, big.storePath)).toBe(true);
    } finally {
      await removeStore(dir);
    }
  });
});
