import type { Readable } from 'node:stream';
import { CachixError } from '../errors.js';
import { ApiError } from './errors.js';
import { NO_TOKEN_HINT } from '../config/settings.js';
import { classifyHttpError, HttpClient, HttpStatusError, TransportError, type HttpClientOptions, type HttpResponse } from './http.js';
import type {
  BinaryCache,
  BinaryCacheCreate,
  CompleteMultipartUpload,
  CompressionQuery,
  DeployRequest,
  DeployResponse,
  Deployment,
  MultipartUploadCreated,
  NarInfoCreate,
  PinCreate,
} from './types.js';
import { asBinaryCache, asDeployment, asDeployResponse, asMultipartCreated, asPartUploadUrl, asStringArray, ShapeError } from './validate.js';

// ApiError lives in its own module so code that only checks for it does not load undici.
export { ApiError } from './errors.js';

/** spec §6.4: batches sized to stay under a 1 MB request body. */
export const MISSING_QUERY_BATCH = 32768;

const JSON_HEADERS = { 'content-type': 'application/json;charset=utf-8', accept: 'application/json' };

export interface CachixApiOptions extends HttpClientOptions {
  /** Base URL, e.g. https://cachix.org (a path is allowed; trailing slashes are ignored). */
  host: string;
  /** undefined = no token: the real client then still sends `Bearer ` with an empty token. */
  token: string | undefined;
  http?: HttpClient;
}

/** Typed client of the Cachix HTTP API v1 (spec §9). */
export class CachixApi {
  readonly http: HttpClient;
  /** `…/api/v1`: every cache route. */
  private readonly base: string;
  /** `…/api`: deploy activation lives under v2. */
  private readonly root: string;
  private readonly token: string | undefined;

  constructor(options: CachixApiOptions) {
    this.root = `${options.host.replace(/\/+$/, '')}/api`;
    this.base = `${this.root}/v1`;
    this.token = options.token;
    this.http = options.http ?? new HttpClient(options);
  }

  /** GET /cache/{name}, with the error messages of spec §1.5. */
  async getCache(name: string): Promise<BinaryCache> {
    try {
      return await this.json('GET', this.cachePath(name), asBinaryCache);
    } catch (error) {
      throw this.cacheError(name, error);
    }
  }

  /** POST /cache/{name}/narinfo in batches; returns the hashes the cache lacks. */
  async missingHashes(name: string, hashes: readonly string[], signal?: AbortSignal): Promise<string[]> {
    const missing: string[] = [];
    for (let i = 0; i < hashes.length; i += MISSING_QUERY_BATCH) {
      const batch = hashes.slice(i, i + MISSING_QUERY_BATCH);
      const answer = await this.json('POST', `${this.cachePath(name)}/narinfo`, (v) => asStringArray(v, 'the missing-paths answer'), batch, signal).catch(
        (error: unknown) => {
          throw this.cacheError(name, error);
        },
      );
      missing.push(...answer);
    }
    return missing;
  }

  async addSigningKey(name: string, publicKeyBase64: string): Promise<void> {
    await this.call('POST', `${this.cachePath(name)}/key`, { publicKey: publicKeyBase64 });
  }

  /** POST /cache/{name}/pin (spec §8): 200 empty; refusals read as a cache lookup's (§1.5). */
  async createPin(name: string, body: PinCreate): Promise<void> {
    try {
      await this.call('POST', `${this.cachePath(name)}/pin`, body);
    } catch (error) {
      throw this.cacheError(name, error);
    }
  }

  /** POST /api/v2/deploy/activate (spec §8), with the activation token as bearer. */
  async activateDeploy(body: DeployRequest): Promise<DeployResponse> {
    return this.json('POST', '/v2/deploy/activate', asDeployResponse, body, undefined, this.root);
  }

  /** GET /api/v1/deploy/deployment/{id}: how a deployment is going. */
  async deployment(id: string): Promise<Deployment> {
    return this.json('GET', `/deploy/deployment/${encodeURIComponent(id)}`, asDeployment);
  }

  /** The historical create-cache call (spec §5). */
  async createCache(name: string, body: BinaryCacheCreate): Promise<void> {
    await this.call('POST', this.cachePath(name), body);
  }

  async createMultipart(name: string, compression: CompressionQuery, signal?: AbortSignal): Promise<MultipartUploadCreated> {
    return this.json('POST', `${this.cachePath(name)}/multipart-nar?compression=${compression}`, asMultipartCreated, undefined, signal);
  }

  async partUploadUrl(
    name: string,
    upload: MultipartUploadCreated,
    partNumber: number,
    contentMD5: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const path = `${this.cachePath(name)}/multipart-nar/${encodeURIComponent(upload.narId)}?uploadId=${encodeURIComponent(upload.uploadId)}&partNumber=${partNumber}`;
    return (await this.json('POST', path, asPartUploadUrl, { contentMD5 }, signal)).uploadUrl;
  }

  /**
   * PUT one part to its presigned URL: raw bytes with a known length, Content-MD5, and
   * deliberately no Authorization header (storage rejects or leaks it). Returns the ETag
   * verbatim, quotes included, or undefined when the storage sent none.
   */
  async uploadPart(uploadUrl: string, body: Buffer | (() => Buffer | Readable), size: number, contentMD5: string, signal?: AbortSignal): Promise<string | undefined> {
    const response = await this.wrap(
      () =>
        this.http.send({
          method: 'PUT',
          url: uploadUrl,
          headers: { 'content-type': 'application/octet-stream', 'content-md5': contentMD5, 'content-length': String(size) },
          body,
          label: 'PUT part',
          signal,
        }),
      'PUT part',
    );
    const etag = response.headers.etag;
    return Array.isArray(etag) ? etag[0] : etag;
  }

  async completeMultipart(name: string, upload: MultipartUploadCreated, body: CompleteMultipartUpload, signal?: AbortSignal): Promise<void> {
    const path = `${this.cachePath(name)}/multipart-nar/${encodeURIComponent(upload.narId)}/complete?uploadId=${encodeURIComponent(upload.uploadId)}`;
    await this.call('POST', path, body, signal);
  }

  async abortMultipart(name: string, upload: MultipartUploadCreated): Promise<void> {
    const path = `${this.cachePath(name)}/multipart-nar/${encodeURIComponent(upload.narId)}/abort?uploadId=${encodeURIComponent(upload.uploadId)}`;
    await this.call('POST', path);
  }

  /** Legacy (pre-multipart) narinfo registration, still served by the API. */
  async createNarinfo(name: string, storeHash: string, body: NarInfoCreate): Promise<void> {
    await this.call('POST', `${this.cachePath(name)}/${storeHash}.narinfo`, body);
  }

  /** Legacy single-request NAR upload of an already compressed NAR held in memory. */
  async uploadNarLegacy(name: string, compression: CompressionQuery, compressed: Buffer): Promise<void> {
    const path = `${this.cachePath(name)}/nar?compression=${compression}`;
    await this.wrap(
      () =>
        this.http.send({
          method: 'POST',
          url: this.base + path,
          headers: { ...this.authHeader(), 'content-type': 'application/octet-stream' },
          body: compressed,
          label: `POST ${path}`,
        }),
      `POST ${path}`,
    );
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private cachePath(name: string): string {
    return `/cache/${encodeURIComponent(name)}`;
  }

  private authHeader(): Record<string, string> {
    // The real client sends the header even without a token ("Bearer " + empty string).
    return { authorization: `Bearer ${this.token ?? ''}` };
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal, base = this.base): Promise<HttpResponse> {
    // The full URL (without query) tells the user which host could not be reached.
    const label = `${method} ${base}${path.split('?')[0]}`;
    return this.wrap(
      () =>
        this.http.send({
          method,
          url: base + path,
          headers: body === undefined ? { ...this.authHeader() } : { ...this.authHeader(), ...JSON_HEADERS },
          body: body === undefined ? undefined : JSON.stringify(body),
          label,
          signal,
        }),
      label,
    );
  }

  /** A JSON call whose answer is checked by `validate`; a bad answer is one clear ApiError. */
  private async json<T>(method: 'GET' | 'POST', path: string, validate: (value: unknown) => T, body?: unknown, signal?: AbortSignal, base = this.base): Promise<T> {
    const response = await this.call(method, path, body, signal, base);
    const label = `${method} ${base === this.root ? '/api' : '/api/v1'}${path.split('?')[0]}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new ApiError(`the server answered ${label} with something that is not JSON`, response.status, undefined);
    }
    try {
      return validate(parsed);
    } catch (error) {
      if (error instanceof ShapeError) throw new ApiError(`unexpected answer to ${label}: ${error.message}`, response.status, undefined);
      throw error;
    }
  }

  /** Turns transport/status errors into ApiError with one readable line. */
  private async wrap<T>(operation: () => Promise<T>, label: string): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof HttpStatusError) {
        throw new ApiError(error.message, error.status, error.bodyText, error);
      }
      if (error instanceof TransportError) {
        const note = classifyHttpError(error).retry ? ' (gave up after retrying)' : '';
        throw new ApiError(`${error.message}${note}`, undefined, undefined, error);
      }
      throw error;
    }
  }

  /** spec §1.5: what a failed cache lookup means to the user. */
  private cacheError(name: string, error: unknown): unknown {
    if (!(error instanceof ApiError)) return error;
    if (error.status === 401) {
      if (this.token !== undefined) {
        const detail = error.body?.trim() ? ` Error: ${error.body.trim().split('\n')[0]}` : '';
        return new ApiError(`cache ${name} doesn't exist or you don't have access.${detail}`, 401, error.body, error);
      }
      return new CachixError(`cache ${name} doesn't exist or is private and you need a token`, { hint: NO_TOKEN_HINT, cause: error });
    }
    if (error.status === 403) return new ApiError(`your token does not have access to cache ${name}`, 403, error.body, error);
    if (error.status === 404) return new ApiError(`Binary cache ${name} does not exist.`, 404, error.body, error);
    return error;
  }
}
