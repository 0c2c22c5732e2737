import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey } from '../../src/nix/keys.js';
import { loopbackAliasesWork, startStandIn, type StandIn } from '../support/standin/index.js';
import { call } from './raw-client.js';

const HASH_A = '0'.repeat(32);
const HASH_B = '1'.repeat(32);

describe('stand-in API: cache lookup, auth, bulk query, keys, create', () => {
  let s: StandIn;
  beforeAll(async () => {
    s = await startStandIn();
    await s.addCache({ name: 'pub', managedKey: true, preferredCompressionMethod: 'XZ' });
    await s.addCache({ name: 'priv', isPublic: false, managedKey: true });
    await s.addCache({ name: 'nokey' });
    s.addToken('reader', { priv: 'Read' });
    s.addToken('writer', { pub: 'Write', priv: 'Write', nokey: 'Write' });
    s.addToken('admin', { nokey: 'Admin' });
  });
  afterAll(() => s.close());
  const api = (path: string): string => `${s.apiUrl}/api/v1/cache/${path}`;

  it('GET cache returns all seven keys as application/json, with the caller permission', async () => {
    const anon = await call('GET', api('pub'));
    expect(anon.status).toBe(200);
    expect(anon.headers['content-type']).toBe('application/json');
    const body = anon.json() as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      ['githubUsername', 'isPublic', 'name', 'permission', 'preferredCompressionMethod', 'publicSigningKeys', 'uri'].sort(),
    );
    expect(body).toMatchObject({ name: 'pub', isPublic: true, permission: 'Read', preferredCompressionMethod: 'XZ', githubUsername: '' });
    expect(body.uri).toBe(s.cache('pub')!.uri);
    expect(body.publicSigningKeys).toEqual([expect.stringMatching(/^pub\.cachix\.org-1:[A-Za-z0-9+/]{43}=$/)]);
    const writer = (await call('GET', api('pub'), { token: 'writer' })).json() as Record<string, unknown>;
    expect(writer.permission).toBe('Write');
  });

  it('private caches answer 401 to anonymous and unknown tokens on every route, 200 to Bearer and Basic', async () => {
    expect((await call('GET', api('priv'))).status).toBe(401);
    expect((await call('GET', api('priv'), { token: 'nope' })).status).toBe(401);
    expect((await call('POST', api('priv/narinfo'), { json: [HASH_A] })).status).toBe(401);
    expect((await call('HEAD', api(`priv/${HASH_A}.narinfo`))).status).toBe(401);
    expect((await call('POST', api('priv/multipart-nar?compression=zst'))).status).toBe(401);
    expect((await call('GET', api('priv'), { token: 'reader' })).status).toBe(200);
    const basic = await call('GET', api('priv'), { basic: 'reader' });
    expect(basic.status).toBe(200);
    expect((basic.json() as { permission: string }).permission).toBe('Read');
  });

  it('unknown caches answer 404', async () => {
    expect((await call('GET', api('missing'))).status).toBe(404);
    expect((await call('POST', api('missing/narinfo'), { json: [] })).status).toBe(404);
  });

  it('write routes need Write: 403 for a Read token, 200 for a Write token', async () => {
    const denied = await call('POST', api('priv/multipart-nar?compression=zst'), { token: 'reader' });
    expect(denied.status).toBe(403);
    expect(denied.text).toMatch(/Write/);
    const ok = await call('POST', api('priv/multipart-nar?compression=zst'), { token: 'writer' });
    expect(ok.status).toBe(200);
    const created = ok.json() as { narId: string; uploadId: string };
    expect(created.narId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(created.uploadId.length).toBeGreaterThan(10);
    expect((await call('POST', api('pub/multipart-nar?compression=gzip'), { token: 'writer' })).status).toBe(400);
  });

  it('bulk query returns the missing subset and refuses more than 32768 hashes or non-hashes', async () => {
    const res = await call('POST', api('pub/narinfo'), { json: [HASH_A, HASH_B] });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual([HASH_A, HASH_B]);
    expect((await call('POST', api('pub/narinfo'), { json: new Array(32768).fill(HASH_A) })).status).toBe(200);
    expect((await call('POST', api('pub/narinfo'), { json: new Array(32769).fill(HASH_A) })).status).toBe(400);
    expect((await call('POST', api('pub/narinfo'), { json: ['/nix/store/x'] })).status).toBe(400);
    expect((await call('POST', api('pub/narinfo'), { json: { a: 1 } })).status).toBe(400);
  });

  it('HEAD narinfo is 404 when absent', async () => {
    expect((await call('HEAD', api(`pub/${HASH_A}.narinfo`))).status).toBe(404);
  });

  it('POST key stores {name}.cachix.org-1:<key>, needs Admin, and refuses a second key with 409', async () => {
    const key = generateSecretKey().publicKey.toString('base64');
    expect((await call('POST', api('nokey/key'), { token: 'writer', json: { publicKey: key } })).status).toBe(403);
    expect((await call('POST', api('nokey/key'), { token: 'admin', json: { publicKey: 'nokey:abc' } })).status).toBe(400);
    const ok = await call('POST', api('nokey/key'), { token: 'admin', json: { publicKey: key } });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('');
    expect(s.cache('nokey')!.publicSigningKeys).toEqual([`nokey.cachix.org-1:${key}`]);
    const again = await call('POST', api('nokey/key'), { token: 'admin', json: { publicKey: key } });
    expect(again.status).toBe(409);
  });

  it('POST cache creates a cache (creator becomes Admin), 409 when it exists, 401 anonymous', async () => {
    const key = generateSecretKey().publicKey.toString('base64');
    const body = { publicSigningKey: key, isPublic: false, githubOrganization: null, githubTeamId: null };
    expect((await call('POST', api('fresh'), { json: body })).status).toBe(401);
    s.addToken('creator', {});
    expect((await call('POST', api('fresh'), { token: 'creator', json: { ...body, isPublic: 'yes' } })).status).toBe(400);
    const created = await call('POST', api('fresh'), { token: 'creator', json: body });
    expect(created.status).toBe(200);
    const got = (await call('GET', api('fresh'), { token: 'creator' })).json() as Record<string, unknown>;
    expect(got).toMatchObject({ name: 'fresh', isPublic: false, permission: 'Admin', publicSigningKeys: [`fresh.cachix.org-1:${key}`] });
    expect((await call('GET', api('fresh'))).status).toBe(401);
    expect((await call('POST', api('fresh'), { token: 'creator', json: body })).status).toBe(409);
  });

  it('serves each cache on its own loopback host; private caches need Basic with a Read token', async () => {
    const pub = s.cache('pub')!;
    const priv = s.cache('priv')!;
    if (await loopbackAliasesWork()) expect(pub.host).not.toBe(priv.host);
    const info = await call('GET', `${pub.uri}/nix-cache-info`, { token: null });
    expect(info.status).toBe(200);
    expect(info.text).toBe('StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 41\n');
    expect((await call('GET', `${priv.uri}/nix-cache-info`, { token: null })).status).toBe(401);
    expect((await call('GET', `${priv.uri}/nix-cache-info`, { token: 'reader' })).status).toBe(401); // Bearer: Nix never sends it
    expect((await call('GET', `${priv.uri}/nix-cache-info`, { basic: 'nope' })).status).toBe(401);
    expect((await call('GET', `${priv.uri}/nix-cache-info`, { basic: 'reader' })).status).toBe(200);
    expect((await call('GET', `${pub.uri}/${HASH_A}.narinfo`, { token: null })).status).toBe(404);
  });

  it('logs requests with lower-case headers and the route', async () => {
    const before = s.log.length;
    await call('GET', api('pub'), { token: 'writer' });
    const entry = s.log[before]!;
    expect(entry).toMatchObject({ method: 'GET', path: '/api/v1/cache/pub', route: 'api', status: 200, cache: 'pub' });
    expect(entry.headers.authorization).toBe('Bearer writer');
  });
});
