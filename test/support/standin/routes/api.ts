/** The JSON API under /api/v1/cache/{name} (spec §1.5, §4, §5, §6, §9). */
import { createHash, createHmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { BinaryCache, PinCreate, PinKeep } from '../../../../src/api/types.js';
import { parseStorePath } from '../../../../src/nix/store-path.js';
import { callerOf } from '../auth.js';
import { permissionOf, requireCache, type RequestContext } from '../context.js';
import { writeHashed } from '../hashed-write.js';
import { HttpError, badRequest, drain, isObject, readJson, sendEmpty, sendJson, sendText } from '../http.js';
import type { Compression, Digest } from '../nar-check.js';
import type { CacheRecord, MultipartUpload, StoredBytes } from '../store.js';
import { isStoreHash, parseNarInfoCreate } from '../validate.js';

const CACHE_NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
const MAX_BULK = 32768;
const MAX_PARTS = 10000;

export async function handleApi(ctx: RequestContext): Promise<void> {
  const match = /^\/api\/v1\/cache\/([^/]+)(\/.*)?$/.exec(ctx.path);
  if (!match) throw new HttpError(404, `no such route: ${ctx.path}`);
  const name = decodeURIComponent(match[1]!);
  const rest = match[2] ?? '';
  const method = ctx.req.method ?? 'GET';
  const route = (m: string): boolean => {
    if (method === m || (m === 'GET' && method === 'HEAD')) return true;
    return false;
  };
  let sub: RegExpExecArray | null;

  if (rest === '' && route('GET')) return getCache(ctx, name);
  if (rest === '' && route('POST')) return createCache(ctx, name);
  if (rest === '/narinfo' && route('POST')) return bulkMissing(ctx, name);
  if ((sub = /^\/([^/]+)\.narinfo$/.exec(rest))) {
    if (method === 'HEAD' || method === 'GET') return getNarinfo(ctx, name, sub[1]!);
    if (method === 'POST') return createNarinfoLegacy(ctx, name, sub[1]!);
  }
  if (rest === '/nix-cache-info' && route('GET')) {
    requireCache(ctx, name, 'Read');
    return sendText(ctx.res, 200, 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 41\n');
  }
  if (rest === '/nar' && route('POST')) return uploadNarLegacy(ctx, name);
  if (rest === '/key' && route('POST')) return addKey(ctx, name);
  if (rest === '/pin' && route('POST')) return createPin(ctx, name);
  if (rest === '/multipart-nar' && route('POST')) return createMultipart(ctx, name);
  if ((sub = /^\/multipart-nar\/([^/]+)$/.exec(rest)) && route('POST')) return partUrl(ctx, name, sub[1]!);
  if ((sub = /^\/multipart-nar\/([^/]+)\/complete$/.exec(rest)) && route('POST')) return complete(ctx, name, sub[1]!);
  if ((sub = /^\/multipart-nar\/([^/]+)\/abort$/.exec(rest)) && route('POST')) return abort(ctx, name, sub[1]!);
  throw new HttpError(404, `no such route: ${method} ${ctx.path}`);
}

function getCache(ctx: RequestContext, name: string): void {
  const cache = requireCache(ctx, name, 'Read');
  const body: BinaryCache = {
    name: cache.name,
    uri: cache.uri,
    isPublic: cache.isPublic,
    publicSigningKeys: ctx.store.publicSigningKeys(cache),
    githubUsername: cache.githubUsername,
    permission: permissionOf(ctx, cache) ?? 'Read',
    preferredCompressionMethod: cache.preferredCompressionMethod,
  };
  sendJson(ctx.res, 200, body);
}

/** Historical `cachix create` (spec §5): the creating token becomes the cache's Admin. */
async function createCache(ctx: RequestContext, name: string): Promise<void> {
  const caller = callerOf(ctx.req);
  const body = await readJson(ctx.req);
  if (!ctx.tokens.known(caller.token)) throw new HttpError(401, 'creating a cache needs a valid auth token');
  if (!CACHE_NAME_RE.test(name)) throw badRequest(`invalid cache name: ${name}`);
  if (ctx.store.caches.has(name)) throw new HttpError(409, `Binary cache ${name} already exists`);
  if (!isObject(body)) throw badRequest('expected a JSON object {publicSigningKey, isPublic, githubOrganization, githubTeamId}');
  const key = body.publicSigningKey;
  if (typeof key !== 'string' || Buffer.from(key, 'base64').length !== 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) {
    throw badRequest('publicSigningKey must be the base64 of a 32-byte ed25519 public key');
  }
  if (typeof body.isPublic !== 'boolean') throw badRequest('isPublic must be a boolean');
  if (!('githubOrganization' in body) || (body.githubOrganization !== null && typeof body.githubOrganization !== 'string')) {
    throw badRequest('githubOrganization must be a string or null');
  }
  if (!('githubTeamId' in body) || (body.githubTeamId !== null && !Number.isInteger(body.githubTeamId))) {
    throw badRequest('githubTeamId must be an integer or null');
  }
  const record = ctx.store.createCache({
    name,
    isPublic: body.isPublic,
    preferredCompressionMethod: 'ZSTD',
    githubUsername: '',
    managedKey: false,
    publicKey: { name: ctx.store.defaultKeyName(name), key: Buffer.from(key, 'base64') },
  });
  ctx.tokens.add(caller.token!, { [name]: 'Admin' });
  await ctx.openCache(record);
  sendEmpty(ctx.res);
}

async function bulkMissing(ctx: RequestContext, name: string): Promise<void> {
  const body = await readJson(ctx.req);
  const cache = requireCache(ctx, name, 'Read');
  if (!Array.isArray(body)) throw badRequest('expected a JSON array of store path hashes');
  if (body.length > MAX_BULK) throw badRequest(`at most ${MAX_BULK} hashes per request, got ${body.length}`);
  const missing = body.filter((hash, i) => {
    if (!isStoreHash(hash)) throw badRequest(`element ${i} is not a 32-character store path hash: ${JSON.stringify(hash)}`);
    return ctx.store.narinfoText(cache.name, hash) === undefined;
  });
  sendJson(ctx.res, 200, missing);
}

function getNarinfo(ctx: RequestContext, name: string, hash: string): void {
  const cache = requireCache(ctx, name, 'Read');
  const text = isStoreHash(hash) ? ctx.store.narinfoText(cache.name, hash) : undefined;
  if (text === undefined) throw new HttpError(404, `no narinfo for ${hash} in ${name}`);
  sendText(ctx.res, 200, text, 'text/x-nix-narinfo');
}

function compressionParam(ctx: RequestContext): Compression {
  const value = ctx.query.get('compression');
  if (value === 'xz' || value === 'zst') return value;
  throw badRequest(`compression must be xz or zst, got ${value === null ? 'nothing' : `'${value}'`}`);
}

/** Legacy streamed upload (spec §6.11): the NAR waits until its narinfo is posted. */
async function uploadNarLegacy(ctx: RequestContext, name: string): Promise<void> {
  const cache = requireCache(ctx, name, 'Write', { selfSignedUpload: true });
  const compression = compressionParam(ctx);
  const file = ctx.store.tempPath('legacy-nar');
  const hash = createHash('sha256');
  const size = await writeHashed(ctx.req, file, hash);
  const hex = hash.digest('hex');
  const key = `${cache.name}/${hex}`;
  const previous = ctx.store.legacyNars.get(key);
  if (previous) await rm(previous.file, { force: true });
  ctx.store.legacyNars.set(key, { file, compression, digest: { hex, size } });
  sendEmpty(ctx.res);
}

async function createNarinfoLegacy(ctx: RequestContext, name: string, hash: string): Promise<void> {
  const body = await readJson(ctx.req);
  const cache = requireCache(ctx, name, 'Write', { selfSignedUpload: true });
  const info = parseNarInfoCreate(body);
  if (info.cStoreHash !== hash) throw badRequest(`cStoreHash ${info.cStoreHash} does not match the URL's ${hash}`);
  const key = `${cache.name}/${info.cFileHash}`;
  const nar = ctx.store.legacyNars.get(key);
  if (!nar) throw badRequest(`no NAR with file hash ${info.cFileHash} was uploaded to ${name}`);
  await ctx.store.publish(cache, info, { file: nar.file }, nar.compression, nar.digest);
  ctx.store.legacyNars.delete(key);
  sendEmpty(ctx.res);
}

async function addKey(ctx: RequestContext, name: string): Promise<void> {
  const body = await readJson(ctx.req);
  const cache = requireCache(ctx, name, 'Admin');
  if (!isObject(body) || typeof body.publicKey !== 'string') throw badRequest('expected {"publicKey": "<base64>"}');
  const key = body.publicKey;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, 'base64').length !== 32) {
    throw badRequest('publicKey must be the bare base64 of a 32-byte ed25519 public key (no key name)');
  }
  if (cache.publicKey) {
    throw new HttpError(409, `A public signing key already exists for ${name}; multiple keys are not supported`);
  }
  cache.keyName = ctx.store.defaultKeyName(name);
  cache.publicKey = Buffer.from(key, 'base64');
  sendEmpty(ctx.res);
}

/** spec §8: pins need Write; every field is checked, and the body is kept as received. */
async function createPin(ctx: RequestContext, name: string): Promise<void> {
  const body = await readJson(ctx.req);
  const cache = requireCache(ctx, name, 'Write');
  ctx.store.addPin(cache.name, parsePinCreate(body));
  sendEmpty(ctx.res);
}

const PIN_FIELDS = ['name', 'storePath', 'artifacts', 'keep'];

/** Returns the body itself once it is known to be a PinCreate, so tests see the exact JSON (key order included). */
function parsePinCreate(value: unknown): PinCreate {
  if (!isObject(value)) throw badRequest('expected a JSON object {name, storePath, artifacts, keep}');
  // Aeson would ignore unknown keys; refusing them catches a misspelt field in the client.
  const unknown = Object.keys(value).find((key) => !PIN_FIELDS.includes(key));
  if (unknown !== undefined) throw badRequest(`unknown field "${unknown}": a pin has name, storePath, artifacts and keep`);
  if (typeof value.name !== 'string' || value.name.trim() === '') throw badRequest('name must be a non-empty string');
  if (typeof value.storePath !== 'string' || !parseStorePath(value.storePath)) {
    throw badRequest(`storePath must be /nix/store/<32-character hash>-<name>, got ${JSON.stringify(value.storePath)}`);
  }
  if (!Array.isArray(value.artifacts)) throw badRequest('artifacts must be an array of strings');
  value.artifacts.forEach((artifact, i) => {
    if (typeof artifact !== 'string' || artifact === '') throw badRequest(`artifacts[${i}] must be a non-empty string`);
  });
  if (!('keep' in value)) throw badRequest('keep is missing (send null for the default retention)');
  parseKeep(value.keep);
  return value as unknown as PinCreate;
}

/** Aeson's tagged encoding: {"tag":"Days"|"Revisions","contents":N} or {"tag":"Forever"}. */
function parseKeep(value: unknown): PinKeep | null {
  if (value === null) return null;
  if (!isObject(value)) throw badRequest('keep must be null or {"tag": "Days"|"Revisions", "contents": N} or {"tag": "Forever"}');
  const { tag } = value;
  if (tag === 'Forever') {
    if (Object.keys(value).length !== 1) throw badRequest('keep {"tag": "Forever"} takes no other field');
    return { tag };
  }
  if (tag !== 'Days' && tag !== 'Revisions') throw badRequest(`keep.tag must be "Days", "Revisions" or "Forever", got ${JSON.stringify(tag)}`);
  if (Object.keys(value).some((key) => key !== 'tag' && key !== 'contents')) throw badRequest(`keep {"tag": "${tag}"} takes only "contents"`);
  const contents = value.contents;
  if (typeof contents !== 'number' || !Number.isSafeInteger(contents) || contents < 1) {
    throw badRequest(`keep.contents must be a positive integer for "${tag}", got ${JSON.stringify(contents)}`);
  }
  return { tag, contents };
}

async function createMultipart(ctx: RequestContext, name: string): Promise<void> {
  await drain(ctx.req);
  const cache = requireCache(ctx, name, 'Write', { selfSignedUpload: true });
  const compression = compressionParam(ctx);
  const upload = await ctx.store.newUpload(cache.name, compression);
  sendJson(ctx.res, 200, { narId: upload.narId, uploadId: upload.uploadId });
}

/** The upload of `narId` in this cache with this `uploadId`, or 404 (S3's NoSuchUpload). */
function findUpload(ctx: RequestContext, cache: CacheRecord, narId: string): MultipartUpload {
  const upload = ctx.store.uploads.get(narId);
  const uploadId = ctx.query.get('uploadId');
  if (uploadId === null) throw badRequest('missing uploadId query parameter');
  if (!upload || upload.cache !== cache.name || upload.uploadId !== uploadId) {
    throw new HttpError(404, `no multipart upload ${narId} with that uploadId in ${cache.name}`);
  }
  return upload;
}

/** Signs what a presigned PUT may do: which part of which upload, with which Content-MD5. */
export function uploadSignature(secret: Buffer, narId: string, partNumber: number, uploadId: string, contentMD5: string): string {
  return createHmac('sha256', secret).update(`${narId}\n${partNumber}\n${uploadId}\n${contentMD5}`).digest('hex');
}

async function partUrl(ctx: RequestContext, name: string, narId: string): Promise<void> {
  const body = await readJson(ctx.req);
  const cache = requireCache(ctx, name, 'Write', { selfSignedUpload: true });
  const upload = findUpload(ctx, cache, narId);
  const partText = ctx.query.get('partNumber') ?? '';
  const partNumber = Number(partText);
  if (!/^[0-9]+$/.test(partText) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw badRequest(`partNumber must be an integer from 1 to ${MAX_PARTS}, got '${partText}'`);
  }
  if (!isObject(body) || typeof body.contentMD5 !== 'string') throw badRequest('expected {"contentMD5": "<base64 MD5>"}');
  const md5 = body.contentMD5;
  if (!/^[A-Za-z0-9+/]{22}==$/.test(md5)) throw badRequest('contentMD5 must be the standard base64 of a 16-byte MD5 digest');
  const sig = uploadSignature(ctx.uploadSecret, narId, partNumber, upload.uploadId, md5);
  const query = new URLSearchParams({ uploadId: upload.uploadId, 'Content-MD5': md5, 'X-Sig': sig });
  sendJson(ctx.res, 200, { uploadUrl: `${ctx.apiUrl}/upload/${narId}/${partNumber}?${query.toString()}` });
}

async function complete(ctx: RequestContext, name: string, narId: string): Promise<void> {
  const body = await readJson(ctx.req);
  const cache = requireCache(ctx, name, 'Write', { selfSignedUpload: true });
  const upload = findUpload(ctx, cache, narId);
  if (!isObject(body)) throw badRequest('expected {"parts": [...], "narInfoCreate": {...}}');
  const info = parseNarInfoCreate(body.narInfoCreate);
  const parts = body.parts;
  if (parts === null) throw badRequest('parts is null: a part upload returned no ETag');
  if (!Array.isArray(parts) || parts.length === 0) throw badRequest('parts must be a non-empty array of {partNumber, eTag}');
  let previous = 0;
  const files = parts.map((part, i) => {
    if (!isObject(part) || !Number.isInteger(part.partNumber) || typeof part.eTag !== 'string') {
      throw badRequest(`parts[${i}] must be {"partNumber": <int>, "eTag": "<string>"}`);
    }
    const number = part.partNumber as number;
    if (number <= previous) throw badRequest(`parts must be in ascending partNumber order (InvalidPartOrder at parts[${i}])`);
    previous = number;
    const stored = upload.parts.get(number);
    if (!stored) throw badRequest(`part ${number} was never uploaded (InvalidPart)`);
    if (stored.eTag !== part.eTag) throw badRequest(`part ${number}: eTag ${part.eTag} does not match the uploaded part's ${stored.eTag} (InvalidPart)`);
    return stored;
  });
  files.slice(0, -1).forEach((stored, i) => {
    if (stored.size < ctx.minPartSize) {
      throw badRequest(`part ${(parts[i] as { partNumber: number }).partNumber} has ${stored.size} bytes; every part but the last needs at least ${ctx.minPartSize} (EntityTooSmall)`);
    }
  });
  const [assembled, digest] = await assemble(ctx, files.map((f) => f.body));
  try {
    await ctx.store.publish(cache, info, assembled, upload.compression, digest);
  } finally {
    if ('file' in assembled) await rm(assembled.file, { force: true }); // moved away on success
  }
  await ctx.store.discardUpload(upload);
  sendEmpty(ctx.res);
}

/** Joins the parts into one compressed NAR (in memory when every part is) and hashes it. */
async function assemble(ctx: RequestContext, parts: StoredBytes[]): Promise<[StoredBytes, Digest]> {
  if (parts.every((p) => 'data' in p)) {
    const data = Buffer.concat(parts.map((p) => (p as { data: Buffer }).data));
    return [{ data }, { hex: createHash('sha256').update(data).digest('hex'), size: data.length }];
  }
  const file = ctx.store.tempPath('assembled');
  const hash = createHash('sha256');
  const size = await writeHashed(partsInOrder(parts), file, hash);
  return [{ file }, { hex: hash.digest('hex'), size }];
}

async function* partsInOrder(parts: StoredBytes[]): AsyncIterable<Buffer> {
  for (const part of parts) {
    // 1 MiB reads: a multi-part NAR is assembled while the client waits for its complete call.
    if ('data' in part) yield part.data;
    else yield* createReadStream(part.file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
  }
}

async function abort(ctx: RequestContext, name: string, narId: string): Promise<void> {
  await drain(ctx.req);
  const cache = requireCache(ctx, name, 'Write', { selfSignedUpload: true });
  const upload = findUpload(ctx, cache, narId);
  await ctx.store.discardUpload(upload);
  sendEmpty(ctx.res);
}
