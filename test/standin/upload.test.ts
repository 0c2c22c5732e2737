import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect } from 'vitest';
import { sha256Nix } from '../../src/nix/base32.js';
import { generateSecretKey, verifyBytes, type SecretKey } from '../../src/nix/keys.js';
import { compress, prepareNar, type PreparedNar } from '../support/nar-fixture.js';
import { describeNix, itNix as it, makeTestClosure } from '../support/nix.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { call, complete, md5b64, uploadParts, type UploadPlan } from './raw-client.js';

const PART = 8 * 1024; // small parts so a real NAR spans several (minPartSize is lowered to match)

describeNix('stand-in multipart upload of a real NAR', () => {
  let s: StandIn;
  let key: SecretKey;
  let lib: PreparedNar; // cachix-test-lib: ~110 kB NAR, several parts
  let data: PreparedNar; // a single small file
  const plan = (nar: PreparedNar, cache = 'signed', token: string | null = 'writer'): UploadPlan => ({
    apiUrl: s.apiUrl,
    cache,
    token,
    compressed: nar.compressed,
    compression: nar.compression,
    partSize: PART,
  });

  beforeAll(async () => {
    s = await startStandIn({ minPartSize: PART });
    key = generateSecretKey('signed.cachix.org-1');
    await s.addCache({ name: 'signed', publicKey: `signed.cachix.org-1:${key.publicKey.toString('base64')}` });
    await s.addCache({ name: 'managed', managedKey: true });
    s.addToken('writer', { signed: 'Write', managed: 'Write' });
    s.addToken('reader', { managed: 'Read' });
    const closure = await makeTestClosure();
    const find = (name: string): string => closure.paths.find((p) => p.endsWith(name))!;
    lib = await prepareNar(find('-cachix-test-lib'), { key });
    data = await prepareNar(find('-cachix-test-data'), { key });
    expect(lib.compressed.length).toBeGreaterThan(2 * PART);
  });
  afterAll(() => s.close());

  it('publishes a signed multi-part upload: narinfo per spec §10.2, NAR served at its URL', async () => {
    const up = await uploadParts(plan(lib));
    expect(up.parts.length).toBeGreaterThan(2);
    for (const part of up.parts) expect(part.eTag).toMatch(/^"[0-9a-f]{32}"$/);
    const res = await complete(plan(lib), up, { parts: up.parts, narInfoCreate: lib.info });
    expect(res.status, res.text).toBe(200);
    expect(res.text).toBe('');
    const info = s.narinfo('signed', lib.info.cStoreHash)!;
    expect(info.storePath).toBe(lib.storePath);
    expect(info.url).toBe(`nar/${lib.info.cFileHash}.nar.zst`);
    expect(info.compression).toBe('zstd');
    expect(info.fileHash).toBe(sha256Nix(Buffer.from(lib.info.cFileHash, 'hex')));
    expect(info.narHash).toBe(lib.info.cNarHash);
    expect(info.references).toEqual(lib.info.cReferences);
    expect(info.deriver).toBe(lib.info.cDeriver);
    expect(info.sigs).toEqual([`signed.cachix.org-1:${lib.info.cSig}`]);
    expect(s.listNarinfos('signed')).toContain(lib.info.cStoreHash);
    const cache = s.cache('signed')!;
    const served = await call('GET', `${cache.uri}/${lib.info.cStoreHash}.narinfo`, { token: null });
    expect(served.headers['content-type']).toBe('text/x-nix-narinfo');
    expect(served.text).toBe(s.narinfoText('signed', lib.info.cStoreHash));
    const nar = await call('GET', `${cache.uri}/${info.url}`, { token: null });
    expect(nar.status).toBe(200);
    expect(Number(nar.headers['content-length'])).toBe(lib.compressed.length);
    expect((await call('POST', `${s.apiUrl}/api/v1/cache/signed/narinfo`, { json: [lib.info.cStoreHash] })).json()).toEqual([]);
    expect(s.openUploads()).toBe(0);
  });

  it('accepts a zero-length final part when the size is a multiple of the part size', async () => {
    const p = { ...plan(lib), partSize: lib.compressed.length };
    const up = await uploadParts(p);
    expect(up.parts).toHaveLength(2);
    expect(up.parts[1]!.eTag).toBe('"d41d8cd98f00b204e9800998ecf8427e"'); // MD5 of nothing
    const res = await complete(p, up, { parts: up.parts, narInfoCreate: lib.info });
    expect(res.status, res.text).toBe(200);
  });

  it('a managed-key cache signs server-side when cSig is null, with a signature Nix would accept', async () => {
    const unsigned = { ...data.info, cSig: null };
    const up = await uploadParts(plan(data, 'managed'));
    const res = await complete(plan(data, 'managed'), up, { parts: up.parts, narInfoCreate: unsigned });
    expect(res.status, res.text).toBe(200);
    const sig = s.narinfo('managed', data.info.cStoreHash)!.sigs[0]!;
    expect(sig.startsWith('managed.cachix.org-1:')).toBe(true);
    const managedKey = s.cache('managed')!.managedSecretKey!;
    expect(verifyBytes(managedKey.publicKey, data.fingerprint, Buffer.from(sig.split(':')[1]!, 'base64'))).toBe(true);
  });

  it('a Read token cannot upload to a managed cache (403)', async () => {
    const res = await call('POST', `${s.apiUrl}/api/v1/cache/managed/multipart-nar?compression=zst`, { token: 'reader' });
    expect(res.status).toBe(403);
  });

  it('a self-signed cache accepts an anonymous upload whose signature verifies, and rejects null cSig', async () => {
    const up = await uploadParts(plan(data, 'signed', null));
    const unsigned = await complete(plan(data, 'signed', null), up, { parts: up.parts, narInfoCreate: { ...data.info, cSig: null } });
    expect(unsigned.status).toBe(400);
    expect(unsigned.text).toMatch(/cSig is required/);
    const signed = await complete(plan(data, 'signed', null), up, { parts: up.parts, narInfoCreate: data.info });
    expect(signed.status, signed.text).toBe(200);
  });

  const rejected = async (nar: PreparedNar, narInfoCreate: Record<string, unknown>, pattern: RegExp): Promise<void> => {
    const hash = typeof narInfoCreate.cStoreHash === 'string' ? narInfoCreate.cStoreHash : nar.info.cStoreHash;
    const before = s.narinfoText('signed', hash);
    const up = await uploadParts(plan(nar));
    const res = await complete(plan(nar), up, { parts: up.parts, narInfoCreate });
    expect(res.status, res.text).toBe(400);
    expect(res.text).toMatch(pattern);
    expect(s.narinfoText('signed', hash)).toBe(before); // nothing published or overwritten
  };

  it('rejects a wrong NarHash, a wrong signature, a wrong FileHash/FileSize and a zero NarSize', async () => {
    // `data`'s NAR under a never-published store hash: its signature no longer matches the
    // fingerprint, so every check before the signature check must fire first to pass.
    const other = { ...data, info: { ...data.info, cStoreHash: 'z'.repeat(32) } };
    await rejected(other, other.info, /cSig is not a valid signature/);
    await rejected(other, { ...other.info, cNarHash: sha256Nix(Buffer.alloc(32, 7)) }, /cNarHash .* does not match/);
    await rejected(other, { ...other.info, cNarSize: other.info.cNarSize + 1 }, /cNarSize .* does not match/);
    await rejected(other, { ...other.info, cFileHash: 'a'.repeat(64) }, /cFileHash .* does not match/);
    await rejected(other, { ...other.info, cFileSize: other.info.cFileSize - 1 }, /cFileSize .* does not match/);
    await rejected(other, { ...other.info, cNarSize: 0 }, /cNarSize must not be 0/);
    const badSig = Buffer.from(other.info.cSig!, 'base64');
    badSig[0]! ^= 1;
    await rejected(other, { ...data.info, cSig: badSig.toString('base64') }, /cSig is not a valid signature/);
    expect(s.narinfo('signed', data.info.cStoreHash)).toBeDefined(); // published earlier; untouched
  });

  it('rejects malformed NarInfoCreate fields with a message naming the field', async () => {
    await rejected(data, { ...data.info, cFileHash: `sha256:${data.info.cFileHash}` }, /cFileHash/);
    await rejected(data, { ...data.info, cReferences: [`/nix/store/${data.info.cReferences[0] ?? 'x'}`] }, /cReferences/);
    await rejected(data, { ...data.info, cStoreHash: 'short' }, /cStoreHash/);
    const { cSig: _, ...noSig } = data.info;
    await rejected(data, noSig, /cSig is missing/);
  });

  it('rejects a zstd upload that is not zstd data', async () => {
    const xz = await compress(data.nar, 'xz');
    const lying = { ...data, compressed: xz, info: { ...data.info, cFileHash: (await import('node:crypto')).createHash('sha256').update(xz).digest('hex'), cFileSize: xz.length } };
    await rejected({ ...lying, info: { ...lying.info, cStoreHash: 'y'.repeat(32) } }, { ...lying.info, cStoreHash: 'y'.repeat(32) }, /not valid zstd data/);
  });

  it('complete rejects an ETag mismatch, a missing part, parts out of order and parts: null', async () => {
    const up = await uploadParts(plan(lib));
    const p = plan(lib);
    const swapped = up.parts.map((part, i) => (i === 0 ? { ...part, eTag: up.parts[1]!.eTag } : part));
    expect((await complete(p, up, { parts: swapped, narInfoCreate: lib.info })).text).toMatch(/eTag .* does not match/);
    const unquoted = up.parts.map((part) => ({ ...part, eTag: part.eTag.replaceAll('"', '') }));
    expect((await complete(p, up, { parts: unquoted, narInfoCreate: lib.info })).status).toBe(400);
    const missing = await complete(p, up, { parts: [...up.parts, { partNumber: 99, eTag: '"x"' }], narInfoCreate: lib.info });
    expect(missing.text).toMatch(/never uploaded/);
    expect((await complete(p, up, { parts: [...up.parts].reverse(), narInfoCreate: lib.info })).text).toMatch(/ascending/);
    expect((await complete(p, up, { parts: null, narInfoCreate: lib.info })).text).toMatch(/parts is null/);
    // A dropped middle part leaves a too-small, non-final part... or a FileHash mismatch; either way 400.
    expect((await complete(p, up, { parts: [up.parts[0]!, up.parts[2]!], narInfoCreate: lib.info })).status).toBe(400);
    // The upload survived the failed attempts: the right parts still complete it.
    expect((await complete(p, up, { parts: up.parts, narInfoCreate: lib.info })).status).toBe(200);
  });

  it('part PUTs: Authorization header 400, wrong Content-MD5 400, no Content-MD5 400, altered URL 403', async () => {
    const base = `${s.apiUrl}/api/v1/cache/signed/multipart-nar`;
    const created = (await call('POST', `${base}?compression=zst`, { token: 'writer' })).json() as { narId: string; uploadId: string };
    const body = Buffer.from('some part bytes');
    const urlFor = async (md5: string): Promise<string> =>
      ((await call('POST', `${base}/${created.narId}?uploadId=${encodeURIComponent(created.uploadId)}&partNumber=1`, { token: 'writer', json: { contentMD5: md5 } })).json() as { uploadUrl: string }).uploadUrl;
    const good = await urlFor(md5b64(body));
    expect(new URL(good).pathname.startsWith('/upload/')).toBe(true);
    const headers = { 'content-md5': md5b64(body) };
    const withAuth = await call('PUT', good, { token: 'writer', body, headers });
    expect(withAuth.status).toBe(400);
    expect(withAuth.text).toMatch(/Authorization/);
    expect((await call('PUT', good, { token: null, body })).status).toBe(400);
    const lie = md5b64(Buffer.from('other bytes'));
    const wrong = await call('PUT', await urlFor(lie), { token: null, body, headers: { 'content-md5': lie } });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toMatch(/BadDigest/);
    expect((await call('PUT', good.replace('partNumber', 'x').replace('/1?', '/2?'), { token: null, body, headers })).status).toBe(403);
    expect((await call('POST', good, { token: null, body, headers })).status).toBe(405);
    const ok = await call('PUT', good, { token: null, body, headers });
    expect(ok.status).toBe(200);
    expect(ok.headers.etag).toBe(`"${(await import('node:crypto')).createHash('md5').update(body).digest('hex')}"`);
    expect(s.log.filter((e) => e.route === 'upload').length).toBeGreaterThan(0);
  });

  it('part PUTs without Content-Length (chunked) are refused', async () => {
    const base = `${s.apiUrl}/api/v1/cache/signed/multipart-nar`;
    const created = (await call('POST', `${base}?compression=zst`, { token: 'writer' })).json() as { narId: string; uploadId: string };
    const body = Buffer.from('chunked part');
    const url = ((await call('POST', `${base}/${created.narId}?uploadId=${encodeURIComponent(created.uploadId)}&partNumber=1`, { token: 'writer', json: { contentMD5: md5b64(body) } })).json() as { uploadUrl: string }).uploadUrl;
    const { request } = await import('undici');
    const res = await request(url, {
      method: 'PUT',
      headers: { 'content-md5': md5b64(body) },
      body: Readable.from([body]), // a stream of unknown length goes out chunked
    });
    await res.body.text();
    expect(res.statusCode).toBe(411);
  });

  it('upload faults: a reset mid-PUT stores nothing; no-etag stores the part but omits the header', async () => {
    const base = `${s.apiUrl}/api/v1/cache/signed/multipart-nar`;
    const created = (await call('POST', `${base}?compression=zst`, { token: 'writer' })).json() as { narId: string; uploadId: string };
    const body = Buffer.alloc(256 * 1024, 1);
    const headers = { 'content-md5': md5b64(body) };
    const url = ((await call('POST', `${base}/${created.narId}?uploadId=${encodeURIComponent(created.uploadId)}&partNumber=1`, { token: 'writer', json: { contentMD5: md5b64(body) } })).json() as { uploadUrl: string }).uploadUrl;
    s.failNext({ route: 'upload', kind: 'reset' });
    await expect(call('PUT', url, { token: null, body, headers })).rejects.toThrow();
    const completeUrl = `${base}/${created.narId}/complete?uploadId=${encodeURIComponent(created.uploadId)}`;
    const eTag = `"${(await import('node:crypto')).createHash('md5').update(body).digest('hex')}"`;
    const early = await call('POST', completeUrl, { token: 'writer', json: { parts: [{ partNumber: 1, eTag }], narInfoCreate: data.info } });
    expect(early.text).toMatch(/never uploaded/);
    s.failNext({ route: 'upload', kind: 'no-etag' });
    const bare = await call('PUT', url, { token: null, body, headers });
    expect(bare.status).toBe(200);
    expect(bare.headers.etag).toBeUndefined();
    const late = await call('POST', completeUrl, { token: 'writer', json: { parts: [{ partNumber: 1, eTag }], narInfoCreate: data.info } });
    expect(late.text).toMatch(/cFileSize/); // the part is there now; the NAR is just not this one
  });

  it('abort discards the upload: later PUTs and completes get 404', async () => {
    const up = await uploadParts(plan(data));
    const before = s.openUploads();
    const abort = await call('POST', `${s.apiUrl}/api/v1/cache/signed/multipart-nar/${up.narId}/abort?uploadId=${encodeURIComponent(up.uploadId)}`, { token: 'writer' });
    expect(abort.status).toBe(200);
    expect(s.openUploads()).toBe(before - 1);
    expect((await complete(plan(data), up, { parts: up.parts, narInfoCreate: data.info })).status).toBe(404);
  });

  it('legacy flow: POST nar then POST {hash}.narinfo publishes the path', async () => {
    const xz = await prepareNar(lib.storePath, { key, compression: 'xz' });
    const narRes = await call('POST', `${s.apiUrl}/api/v1/cache/managed/nar?compression=xz`, {
      token: 'writer',
      body: xz.compressed,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(narRes.status).toBe(200);
    const url = `${s.apiUrl}/api/v1/cache/managed/${xz.info.cStoreHash}.narinfo`;
    expect((await call('POST', url.replace(xz.info.cStoreHash, 'z'.repeat(32)), { token: 'writer', json: { ...xz.info, cSig: null } })).status).toBe(400);
    const res = await call('POST', url, { token: 'writer', json: { ...xz.info, cSig: null } });
    expect(res.status, res.text).toBe(200);
    expect(s.narinfo('managed', xz.info.cStoreHash)).toMatchObject({ compression: 'xz', url: `nar/${xz.info.cFileHash}.nar.xz` });
    expect((await call('HEAD', url, { token: 'writer' })).status).toBe(200);
  });
});
