/**
 * Plain undici calls against the stand-in — deliberately not the product's client, so the
 * stand-in is tested on its own terms.
 */
import { createHash } from 'node:crypto';
import { request } from 'undici';
import type { CompletedPart, NarInfoCreate } from '../../src/api/types.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): unknown;
}

export async function call(
  method: 'GET' | 'HEAD' | 'POST' | 'PUT',
  url: string,
  options: { token?: string | null; basic?: string; json?: unknown; body?: Buffer; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  // The real client always sends a bearer, empty when it has no token (spec §1.2).
  if (options.token !== null && options.basic === undefined) headers.authorization = `Bearer ${options.token ?? ''}`;
  if (options.basic !== undefined) headers.authorization = `Basic ${Buffer.from(`:${options.basic}`).toString('base64')}`;
  let body: Buffer | string | undefined = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json;charset=utf-8';
    body = JSON.stringify(options.json);
  }
  const res = await request(url, { method, headers, body });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

export const md5b64 = (data: Buffer): string => createHash('md5').update(data).digest('base64');

export interface UploadPlan {
  apiUrl: string;
  cache: string;
  token?: string | null;
  compressed: Buffer;
  compression: 'zst' | 'xz';
  partSize: number;
}

/** Create + parts (each: ask for a URL, PUT) — returns what complete needs. */
export async function uploadParts(plan: UploadPlan): Promise<{ narId: string; uploadId: string; parts: CompletedPart[] }> {
  const base = `${plan.apiUrl}/api/v1/cache/${plan.cache}/multipart-nar`;
  const created = await call('POST', `${base}?compression=${plan.compression}`, { token: plan.token });
  if (created.status !== 200) throw new Error(`create: ${created.status} ${created.text}`);
  const { narId, uploadId } = created.json() as { narId: string; uploadId: string };
  // Like the real client: the remainder is always emitted, so a compressed size that is a
  // multiple of the part size ends with an empty part.
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < plan.compressed.length; offset += plan.partSize) {
    chunks.push(plan.compressed.subarray(offset, offset + plan.partSize));
  }
  if (plan.compressed.length % plan.partSize === 0) chunks.push(Buffer.alloc(0));
  const parts: CompletedPart[] = [];
  for (const [i, chunk] of chunks.entries()) {
    const partNumber = i + 1;
    const md5 = md5b64(chunk);
    const url = await call('POST', `${base}/${narId}?uploadId=${encodeURIComponent(uploadId)}&partNumber=${partNumber}`, {
      token: plan.token,
      json: { contentMD5: md5 },
    });
    if (url.status !== 200) throw new Error(`part url: ${url.status} ${url.text}`);
    const { uploadUrl } = url.json() as { uploadUrl: string };
    const put = await call('PUT', uploadUrl, {
      token: null,
      body: chunk,
      headers: { 'content-type': 'application/octet-stream', 'content-md5': md5 },
    });
    if (put.status !== 200) throw new Error(`put: ${put.status} ${put.text}`);
    parts.push({ partNumber, eTag: put.headers.etag as string });
  }
  return { narId, uploadId, parts };
}

export function complete(
  plan: UploadPlan,
  upload: { narId: string; uploadId: string },
  body: { parts: CompletedPart[] | null; narInfoCreate: NarInfoCreate | Record<string, unknown> },
): Promise<Reply> {
  const url = `${plan.apiUrl}/api/v1/cache/${plan.cache}/multipart-nar/${upload.narId}/complete?uploadId=${encodeURIComponent(upload.uploadId)}`;
  return call('POST', url, { token: plan.token, json: body });
}
