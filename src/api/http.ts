import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { Agent, request } from './undici-core.js';
import { userAgent } from '../version.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, parseRetryAfterBody, withRetry, type RetryDecision, type RetryPolicy } from './retry.js';

/** A non-2xx answer. */
export class HttpStatusError extends Error {
  constructor(
    readonly label: string,
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly bodyText: string,
  ) {
    super(`${label}: HTTP ${status}${bodyText ? ` ${firstLine(bodyText)}` : ''}`);
    this.name = 'HttpStatusError';
  }
}

/** The connection failed: refused, reset, timed out, closed early. */
export class TransportError extends Error {
  constructor(
    readonly label: string,
    readonly code: string,
    cause: unknown,
  ) {
    super(`${label}: ${describeTransport(code, cause)}`, { cause });
    this.name = 'TransportError';
  }
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'HEAD';
  url: string;
  headers?: Record<string, string>;
  /** A Buffer or string is replayed on retry as it is; a factory makes a fresh stream per attempt. */
  body?: Buffer | string | (() => Buffer | Readable);
  /** Short description for messages, e.g. `POST /api/v1/cache/x/narinfo`. */
  label: string;
  /** Abort the request (and its retries). */
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

// Codes of connection-level failures worth retrying (spec §6.8: connection failure, closed,
// timeout, incomplete response). ENOTFOUND is left out on purpose: a mistyped host should fail
// at once, not after 90 s of retries.
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** spec §6.8: 429, 5xx and transport errors are retried; everything else is final. */
export function classifyHttpError(error: unknown): RetryDecision {
  if (error instanceof HttpStatusError) {
    if (error.status !== 429 && error.status < 500) return { retry: false };
    const header = error.headers['retry-after'];
    const contentType = error.headers['content-type'];
    return {
      retry: true,
      retryAfterMs:
        parseRetryAfter(Array.isArray(header) ? header[0] : header) ??
        parseRetryAfterBody(Array.isArray(contentType) ? contentType[0] : contentType, error.bodyText),
    };
  }
  if (error instanceof TransportError) return { retry: RETRYABLE_CODES.has(error.code) };
  return { retry: false };
}

export interface HttpClientOptions {
  /** Parallel connections per origin; match the configured concurrency. */
  connections?: number;
  retry?: Partial<RetryPolicy>;
  dispatcher?: Dispatcher;
  /** Close `dispatcher` with this client (it was made for it, e.g. a proxy agent). */
  ownsDispatcher?: boolean;
}

/** One keep-alive agent for the whole run, with the retry policy around every request. */
export class HttpClient {
  readonly dispatcher: Dispatcher;
  readonly policy: RetryPolicy;
  private readonly ownsDispatcher: boolean;

  constructor(options: HttpClientOptions = {}) {
    this.ownsDispatcher = options.dispatcher === undefined || options.ownsDispatcher === true;
    this.dispatcher =
      options.dispatcher ??
      new Agent({ connections: options.connections ?? 16, keepAliveTimeout: 30_000, pipelining: 1 });
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  /** Sends the request, retrying per policy; resolves only on 2xx. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    return withRetry(() => this.once(req), classifyHttpError, this.policy);
  }

  /** One attempt, no retry. Non-2xx becomes HttpStatusError, connection trouble TransportError. */
  async once(req: HttpRequest): Promise<HttpResponse> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.dispatcher, req.url, {
        method: req.method,
        headers: { 'user-agent': userAgent(), ...req.headers },
        body: typeof req.body === 'function' ? req.body() : (req.body ?? null),
        signal: req.signal,
      });
    } catch (error) {
      throw asTransportError(req.label, error);
    }
    let body: Buffer;
    try {
      body = req.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await response.body.arrayBuffer());
    } catch (error) {
      throw asTransportError(req.label, error);
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new HttpStatusError(req.label, response.statusCode, response.headers, body.toString('utf8').slice(0, 2000));
    }
    return { status: response.statusCode, headers: response.headers, body };
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

function asTransportError(label: string, error: unknown): Error {
  if ((error as { name?: string }).name === 'AbortError') return error as Error;
  return new TransportError(label, errorCode(error) ?? 'UNKNOWN', error);
}

/** TLS failures are final (a wrong scheme or a bad certificate does not heal by retrying). */
export function isTlsCode(code: string): boolean {
  return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code);
}

function describeTransport(code: string, cause: unknown): string {
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return 'TLS handshake failed (wrong version number: does the server speak plain http://?)';
  if (isTlsCode(code)) return `TLS handshake failed (${code.replace(/^ERR_(SSL|TLS)_/, '').toLowerCase().replace(/_/g, ' ')})`;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'ENOTFOUND':
      return 'host not found';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timed out';
    default:
      return cause instanceof Error ? firstLine(cause.message) : code;
  }
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
