/** Small node:http helpers shared by the stand-in's routes. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Thrown by route handlers; the dispatcher turns it into a response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message);

export function sendJson(res: ServerResponse, status: number, value: unknown, contentType = 'application/json'): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': body.length });
  res.end(body);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  const body = Buffer.from(text);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': body.length });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** "No content" endpoints answer 200 with an empty body (spec §1.4). */
export function sendEmpty(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { ...headers, 'Content-Length': 0 });
  res.end();
}

/** Error answers: a JSON object with a short message, like servant's error bodies. */
export function sendError(res: ServerResponse, error: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(JSON.stringify({ error: error.message }));
  res.writeHead(error.status, { ...error.headers, 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const JSON_LIMIT = 16 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = JSON_LIMIT): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads a JSON body; servant answers 400 for bodies that do not decode. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  const body = await readBody(req);
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, `expected Content-Type application/json, got '${type}'`);
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('request body is not valid JSON');
  }
}

/** Drains a request body without keeping it (used before answering a fault or error). */
export async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  for await (const _ of req as AsyncIterable<Buffer>) void _;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
