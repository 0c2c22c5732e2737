import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { generateSecretKey, type SecretKey } from '../../src/nix/keys.js';
import { prepareNar } from '../support/nar-fixture.js';
import {
  describeNix,
  isValidIn,
  itNix as it,
  makeTempStore,
  makeTestClosure,
  removeStore,
  substituteInto,
  substituteWithUserConf,
  verifyStore,
  type TestClosure,
} from '../support/nix.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { complete, uploadParts } from './raw-client.js';

/** Real Nix reads what the stand-in published: trusted key → installed; other key → refused. */
describeNix('real Nix substitutes from the stand-in', () => {
  let s: StandIn;
  let key: SecretKey;
  let closure: TestClosure;
  let work: string;
  const stores: string[] = [];
  const store = async (): Promise<string> => {
    const dir = await makeTempStore();
    stores.push(dir);
    return dir;
  };

  const push = async (cache: string, token: string | null, signWith?: SecretKey): Promise<void> => {
    for (const path of closure.paths) {
      const nar = await prepareNar(path, { key: signWith });
      const plan = { apiUrl: s.apiUrl, cache, token, compressed: nar.compressed, compression: nar.compression, partSize: 8 * 1024 * 1024 };
      const up = await uploadParts(plan);
      const res = await complete(plan, up, { parts: up.parts, narInfoCreate: nar.info });
      if (res.status !== 200) throw new Error(`complete ${path}: ${res.status} ${res.text}`);
    }
  };

  beforeAll(async () => {
    s = await startStandIn();
    work = await mkdtemp(join(tmpdir(), 'cachix-standin-nix-'));
    key = generateSecretKey();
    await s.addCache({ name: 'selfsigned', publicKey: key.publicKey.toString('base64') });
    await s.addCache({ name: 'secret', isPublic: false, managedKey: true });
    s.addToken('pusher', { secret: 'Write' });
    s.addToken('puller', { secret: 'Read' });
    closure = await makeTestClosure();
    await push('selfsigned', null, key); // anonymous: the signature is the credential
    await push('secret', 'pusher');
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map(removeStore));
  });
  afterAll(async () => {
    await s.close();
    await rm(work, { recursive: true, force: true });
  });

  it('installs the closure when the cache key is trusted, and the contents verify', async () => {
    const dir = await store();
    const cache = s.cache('selfsigned')!;
    const result = await substituteInto(dir, [closure.top], { substituter: cache.uri, publicKeys: cache.publicSigningKeys });
    expect(result.code, result.stderr).toBe(0);
    expect(await isValidIn(dir, closure.top)).toBe(true);
    const verify = await verifyStore(dir);
    expect(verify.code, verify.stderr).toBe(0);
    const narRequests = s.log.filter((e) => e.route === 'nix' && e.cache === 'selfsigned' && e.path.startsWith('/nar/'));
    expect(narRequests.length).toBeGreaterThanOrEqual(closure.paths.length);
  });

  it('refuses the input-addressed top path when another key is trusted', async () => {
    const dir = await store();
    const other = generateSecretKey();
    const result = await substituteInto(dir, [closure.top], {
      substituter: s.cache('selfsigned')!.uri,
      publicKeys: [`selfsigned.cachix.org-1:${other.publicKey.toString('base64')}`],
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/is not signed by any of the keys in 'trusted-public-keys'/);
    expect(await isValidIn(dir, closure.top)).toBe(false);
  });

  it('a private cache serves Nix with a netrc token (Basic), and not without', async () => {
    const cache = s.cache('secret')!;
    const netrc = join(work, 'netrc');
    await writeFile(netrc, `machine ${cache.host} password puller\n`, { mode: 0o600 });
    const ok = await substituteInto(await store(), [closure.top], { substituter: cache.uri, publicKeys: cache.publicSigningKeys, netrcFile: netrc });
    expect(ok.code, ok.stderr).toBe(0);
    const sent = s.log.filter((e) => e.route === 'nix' && e.cache === 'secret' && e.status === 200);
    expect(sent.length).toBeGreaterThan(0);
    for (const e of sent) expect(e.headers.authorization).toBe(`Basic ${Buffer.from(':puller').toString('base64')}`);

    const denied = await substituteInto(await store(), [closure.top], { substituter: cache.uri, publicKeys: cache.publicSigningKeys });
    expect(denied.code).not.toBe(0);
  });

  it('a user nix.conf given as NIX_USER_CONF_FILES overrides the global empty substituters', async () => {
    const cache = s.cache('selfsigned')!;
    const conf = join(work, 'nix.conf');
    await writeFile(conf, `substituters = ${cache.uri}\ntrusted-public-keys = ${cache.publicSigningKeys.join(' ')}\n`);
    const dir = await store();
    const result = await substituteWithUserConf(dir, [closure.top], conf);
    expect(result.code, result.stderr).toBe(0);
    expect(await isValidIn(dir, closure.top)).toBe(true);
  });
});
