/** The stand-in's `POST /api/v1/cache/{name}/pin` (spec §8): Write permission, a strictly checked body, pins recorded. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { call } from './raw-client.js';

const STORE_PATH = `/nix/store/${'a'.repeat(32)}-hello-2.12`;
const GOOD = { name: 'release', storePath: STORE_PATH, artifacts: ['bin/hello'], keep: null };

describe('stand-in API: pins', () => {
  let s: StandIn;
  beforeAll(async () => {
    s = await startStandIn();
    await s.addCache({ name: 'pinpub', managedKey: true });
    await s.addCache({ name: 'pinpriv', isPublic: false, managedKey: true });
    await s.addCache({ name: 'pinbad', managedKey: true });
    s.addToken('pin-writer', { pinpub: 'Write', pinpriv: 'Write', pinbad: 'Write' });
    s.addToken('pin-reader', { pinpub: 'Read', pinpriv: 'Read' });
  });
  afterAll(() => s.close());
  const pin = (cache: string, body: unknown, token?: string) => call('POST', `${s.apiUrl}/api/v1/cache/${cache}/pin`, { json: body, token });

  it('records each pin with a Write token, as received, and answers 200 with an empty body', async () => {
    const first = await pin('pinpub', GOOD, 'pin-writer');
    expect(first.status).toBe(200);
    expect(first.text).toBe('');
    const second = { name: 'release', storePath: STORE_PATH, artifacts: [], keep: { tag: 'Days', contents: 7 } };
    expect((await pin('pinpub', second, 'pin-writer')).status).toBe(200);
    const forever = { name: 'other', storePath: STORE_PATH, artifacts: ['/share/doc'], keep: { tag: 'Forever' } };
    expect((await pin('pinpub', forever, 'pin-writer')).status).toBe(200);
    expect(s.pins('pinpub')).toEqual([GOOD, second, forever]);
    expect(JSON.stringify(s.pins('pinpub')[1])).toBe(JSON.stringify(second));
    expect(s.pins('pinpriv')).toEqual([]);
  });

  it('needs Write: 401 anonymous or unknown token on a private cache, 403 for Read, 404 for an unknown cache', async () => {
    expect((await pin('pinpriv', GOOD)).status).toBe(401);
    expect((await pin('pinpriv', GOOD, 'nobody')).status).toBe(401);
    const readOnly = await pin('pinpriv', GOOD, 'pin-reader');
    expect(readOnly.status).toBe(403);
    expect(readOnly.text).toMatch(/Write/);
    expect((await pin('pinpub', GOOD)).status).toBe(403); // public: anonymous may read, not pin
    expect((await pin('nosuchcache', GOOD, 'pin-writer')).status).toBe(404);
    expect(s.pins('pinpriv')).toEqual([]);
  });

  it.each([
    ['not an object', [GOOD], /JSON object/],
    ['empty name', { ...GOOD, name: '' }, /name/],
    ['name not a string', { ...GOOD, name: 3 }, /name/],
    ['store path outside the store', { ...GOOD, storePath: '/tmp/hello' }, /storePath/],
    ['store path with a short hash', { ...GOOD, storePath: '/nix/store/abc-hello' }, /storePath/],
    ['path inside a store path', { ...GOOD, storePath: `${STORE_PATH}/bin/hello` }, /storePath/],
    ['artifacts not an array', { ...GOOD, artifacts: 'bin/hello' }, /artifacts/],
    ['artifact not a string', { ...GOOD, artifacts: ['ok', 4] }, /artifacts\[1\]/],
    ['keep missing', { name: 'x', storePath: STORE_PATH, artifacts: [] }, /keep is missing/],
    ['keep a bare number', { ...GOOD, keep: 7 }, /keep/],
    ['keep with an unknown tag', { ...GOOD, keep: { tag: 'Weeks', contents: 2 } }, /keep\.tag/],
    ['keep Days of zero', { ...GOOD, keep: { tag: 'Days', contents: 0 } }, /keep\.contents/],
    ['keep Revisions without contents', { ...GOOD, keep: { tag: 'Revisions' } }, /keep\.contents/],
    ['keep Days of a string', { ...GOOD, keep: { tag: 'Days', contents: '7' } }, /keep\.contents/],
    ['keep Forever with contents', { ...GOOD, keep: { tag: 'Forever', contents: 1 } }, /Forever/],
    ['a misspelt field', { ...GOOD, store_path: STORE_PATH }, /unknown field "store_path"/],
  ])('400 naming the field for %s, and nothing recorded', async (_what, body, message) => {
    const res = await pin('pinbad', body, 'pin-writer');
    expect(res.status).toBe(400);
    expect((res.json() as { error: string }).error).toMatch(message);
    expect(s.pins('pinbad')).toEqual([]);
  });

  it('the accessor hands out copies: a test cannot change what was recorded', async () => {
    await s.addCache({ name: 'pincopy', managedKey: true });
    s.addToken('pin-copy', { pincopy: 'Write' });
    expect((await pin('pincopy', GOOD, 'pin-copy')).status).toBe(200);
    s.pins('pincopy')[0]!.artifacts.push('tampered');
    expect(s.pins('pincopy')).toEqual([GOOD]);
  });
});
