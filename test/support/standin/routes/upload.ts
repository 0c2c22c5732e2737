/**
 * Presigned part uploads, S3-style: `PUT /upload/<narId>/<part>?uploadId=&Content-MD5=&X-Sig=`.
 * Like S3 it refuses an Authorization header next to a presigned signature, insists on
 * Content-MD5 and Content-Length (no chunked bodies), and answers with a quoted hex ETag.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RequestContext } from '../context.js';
import { writeHashed } from '../hashed-write.js';
import { HttpError, badRequest, readBody } from '../http.js';
import { IN_MEMORY_PART_BYTES, type MultipartUpload, type UploadPart } from '../store.js';
import { uploadSignature } from './api.js';

export async function handleUpload(ctx: RequestContext, options: { omitETag: boolean }): Promise<void> {
  const { req, res } = ctx;
  const match = /^\/upload\/([^/]+)\/([0-9]+)$/.exec(ctx.path);
  if (!match) throw new HttpError(404, `no such upload URL: ${ctx.path}`);
  if (req.method !== 'PUT') throw new HttpError(405, `presigned upload URLs accept PUT only, got ${req.method}`);
  const narId = match[1]!;
  const partNumber = Number(match[2]);
  const uploadId = ctx.query.get('uploadId') ?? '';
  const signedMD5 = ctx.query.get('Content-MD5') ?? '';
  const expected = Buffer.from(uploadSignature(ctx.uploadSecret, narId, partNumber, uploadId, signedMD5));
  const given = Buffer.from(ctx.query.get('X-Sig') ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new HttpError(403, 'SignatureDoesNotMatch: the upload URL was altered');
  }
  if (req.headers.authorization !== undefined) {
    throw badRequest('InvalidArgument: only one auth mechanism allowed; a presigned URL must not carry an Authorization header');
  }
  const contentMD5 = req.headers['content-md5'];
  if (typeof contentMD5 !== 'string' || contentMD5 === '') throw badRequest('InvalidDigest: the Content-MD5 header is required');
  if (contentMD5 !== signedMD5) throw new HttpError(403, 'SignatureDoesNotMatch: Content-MD5 differs from the one the URL was signed for');
  if (req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] === undefined) {
    throw new HttpError(411, 'MissingContentLength: send the part with a Content-Length header, not chunked');
  }
  const declared = Number(req.headers['content-length']);
  const upload = ctx.store.uploads.get(narId);
  if (!upload || upload.uploadId !== uploadId) throw new HttpError(404, 'NoSuchUpload: the upload does not exist or was aborted or completed');

  const part = declared <= IN_MEMORY_PART_BYTES ? await receiveInMemory(ctx, declared) : await receiveToFile(ctx, partNumber, declared);
  try {
    const digest = part.eTag;
    if (digest.toString('base64') !== contentMD5) {
      throw badRequest(`BadDigest: the Content-MD5 you specified did not match what we received (${digest.toString('base64')})`);
    }
    // Aborted meanwhile? Then the part has nowhere to go.
    if (ctx.store.uploads.get(narId) !== upload) throw new HttpError(404, 'NoSuchUpload: the upload was aborted');
    const body = 'file' in part.body ? { file: await moveInto(ctx, upload, part.body.file, partNumber) } : part.body;
    const eTag = `"${digest.toString('hex')}"`;
    upload.parts.set(partNumber, { body, size: part.size, eTag });
    res.writeHead(200, options.omitETag ? { 'Content-Length': 0 } : { ETag: eTag, 'Content-Length': 0 });
    res.end();
  } finally {
    // A refused part's temp file (a kept one was moved away already).
    if ('file' in part.body) await rm(part.body.file, { force: true });
  }
}

/** A part as received: its bytes, in memory or in a temp file, and their raw MD5. */
type Received = Omit<UploadPart, 'eTag'> & { eTag: Buffer };

async function receiveInMemory(ctx: RequestContext, declared: number): Promise<Received> {
  const data = await readBody(ctx.req, declared);
  if (data.length !== declared) throw badRequest(`IncompleteBody: got ${data.length} of ${declared} bytes`);
  return { body: { data }, size: data.length, eTag: createHash('md5').update(data).digest() };
}

async function receiveToFile(ctx: RequestContext, partNumber: number, declared: number): Promise<Received> {
  const temp = ctx.store.tempPath(`part-${partNumber}`);
  const md5 = createHash('md5');
  const size = await writeHashed(ctx.req, temp, md5);
  if (size !== declared) {
    await rm(temp, { force: true });
    throw badRequest(`IncompleteBody: got ${size} of ${declared} bytes`);
  }
  return { body: { file: temp }, size, eTag: md5.digest() };
}

async function moveInto(ctx: RequestContext, upload: MultipartUpload, temp: string, partNumber: number): Promise<string> {
  const file = join(await ctx.store.partsDir(upload), `part-${partNumber}`);
  await rename(temp, file);
  return file;
}
