/**
 * The stand-in itself: one node:http listener for the API and the presigned upload URLs
 * (127.0.0.1, random port) plus one Nix-facing listener per cache on its own loopback
 * address. Faults are decided before a request is handled, so none leaves state half-applied.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PinCreate } from '../../../src/api/types.js';
import type { NarInfo } from '../../../src/nix/narinfo.js';
import { parsePublicKeyNix, type SecretKey } from '../../../src/nix/keys.js';
import { TokenRegistry } from './auth.js';
import type { RequestContext, StandInContext } from './context.js';
import { FaultPlan } from './faults.js';
import { HttpError, drain, sendError, sendJson, sendText } from './http.js';
import { startLogEntry } from './log.js';
import { listen, listenOnFreshLoopback } from './loopback.js';
import { DeployState } from './deploy.js';
import { handleApi } from './routes/api.js';
import { handleDeploy } from './routes/deploy.js';
import { handleDeployLogUpgrade } from './routes/deploy-log.js';
import { handleNix } from './routes/nix-serving.js';
import { handleUpload } from './routes/upload.js';
import { StandInStore, type CacheRecord } from './store.js';
import type {
  AddCacheOptions,
  FaultConfig,
  FaultKind,
  InjectedFault,
  LogEntry,
  Permission,
  RouteKind,
  StandInOptions,
  TargetedFault,
} from './types.js';

/** A cache as tests see it; getters read live state (keys added over the API show up). */
export interface CacheHandle {
  readonly name: string;
  /** The Nix-facing base URL, as `GET /api/v1/cache/{name}` returns it: `http://127.0.0.N:PORT`. */
  readonly uri: string;
  /** The loopback address of `uri` — the netrc `machine` that matches it. */
  readonly host: string;
  readonly port: number;
  readonly isPublic: boolean;
  readonly publicSigningKeys: string[];
  /** The server-held key of a managed-key cache. */
  readonly managedSecretKey: SecretKey | undefined;
}

export class StandIn {
  readonly log: LogEntry[] = [];
  private down = false;
  private readonly nixServers = new Map<string, Server>();
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly apiServer: Server,
    readonly apiUrl: string,
    private readonly context: StandInContext,
    private readonly faults: FaultPlan,
    private readonly ownsDataDir: boolean,
  ) {}

  get dataDir(): string {
    return this.context.store.dataDir;
  }

  /** Every fault injected so far, in order. */
  get faultLog(): readonly InjectedFault[] {
    return this.faults.injected;
  }

  addToken(token: string, permissions: Record<string, Permission>): void {
    this.context.tokens.add(token, permissions);
  }

  async addCache(options: AddCacheOptions): Promise<CacheHandle> {
    const { store } = this.context;
    if (store.caches.has(options.name)) throw new Error(`stand-in: cache ${options.name} already exists`);
    if (options.managedKey && options.publicKey) throw new Error('stand-in: a cache has either a managed key or a public key');
    let publicKey: { name: string; key: Buffer } | undefined;
    if (options.publicKey !== undefined) {
      publicKey = options.publicKey.includes(':')
        ? parsePublicKeyNix(options.publicKey)
        : { name: store.defaultKeyName(options.name), key: Buffer.from(options.publicKey, 'base64') };
      if (publicKey.key.length !== 32) throw new Error('stand-in: publicKey must hold 32 bytes');
    }
    const record = store.createCache({
      name: options.name,
      isPublic: options.isPublic ?? true,
      preferredCompressionMethod: options.preferredCompressionMethod ?? 'ZSTD',
      githubUsername: options.githubUsername ?? '',
      managedKey: options.managedKey ?? false,
      publicKey,
    });
    await this.openCache(record);
    return this.cache(options.name)!;
  }

  cache(name: string): CacheHandle | undefined {
    const record = this.context.store.caches.get(name);
    if (!record) return undefined;
    const store = this.context.store;
    return {
      name,
      get uri() {
        return record.uri;
      },
      get host() {
        return record.host;
      },
      get port() {
        return record.port;
      },
      get isPublic() {
        return record.isPublic;
      },
      get publicSigningKeys() {
        return store.publicSigningKeys(record);
      },
      get managedSecretKey() {
        return record.signer;
      },
    };
  }

  /** The parsed narinfo of a store hash in a cache, or undefined. */
  narinfo(cacheName: string, storeHash: string): NarInfo | undefined {
    return this.context.store.narinfo(cacheName, storeHash);
  }

  narinfoText(cacheName: string, storeHash: string): string | undefined {
    return this.context.store.narinfoText(cacheName, storeHash);
  }

  /** Store hashes with a narinfo in the cache, sorted. */
  listNarinfos(cacheName: string): string[] {
    return this.context.store.listNarinfos(cacheName);
  }

  /** Pins the cache received (the request bodies as sent), oldest first; copies, so tests cannot alter them. */
  pins(cacheName: string): PinCreate[] {
    return this.context.store.pins(cacheName).map((pin) => structuredClone(pin));
  }

  /** Cachix Deploy: activation tokens, agents and their scripted deployments, activations received. */
  get deploy(): DeployState {
    return this.context.deploy;
  }

  /** Multipart uploads neither completed nor aborted. */
  openUploads(): number {
    return this.context.store.uploads.size;
  }

  setFaults(config: FaultConfig | undefined): void {
    this.faults.setConfig(config);
  }

  failNext(fault: TargetedFault): void {
    this.faults.addTargeted(fault);
  }

  /** Down: every API/upload connection is dropped at once (Nix-facing hosts stay up). */
  setDown(down: boolean): void {
    this.down = down;
    if (down) for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    const servers = [this.apiServer, ...this.nixServers.values()];
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  /** @internal request entry point of the API listener. */
  onApiConnection(socket: Socket): void {
    if (this.down) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** @internal */
  async onApiRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx = this.requestContext(req, res);
    const route: RouteKind = ctx.path.startsWith('/upload/') ? 'upload' : 'api';
    const cacheMatch = /^\/api\/v1\/cache\/([^/]+)/.exec(ctx.path);
    const entry = startLogEntry(this.log, req, res, route, cacheMatch ? decodeURIComponent(cacheMatch[1]!) : undefined);
    if (this.down) {
      req.socket.destroy();
      return;
    }
    const fault = this.faults.decide(route, req.method ?? 'GET', ctx.path);
    if (fault !== undefined) entry.fault = fault;
    const isDeploy = /^\/api\/v[12]\/deploy\//.test(ctx.path);
    await this.serve(ctx, fault, () =>
      route === 'upload' ? handleUpload(ctx, { omitETag: fault === 'no-etag' }) : isDeploy ? handleDeploy(ctx) : handleApi(ctx),
    );
  }

  /** @internal starts a cache's Nix-facing listener (also used for caches created over the API). */
  async openCache(record: CacheRecord): Promise<void> {
    const server = createServer((req, res) => void this.onNixRequest(record, req, res));
    const { host, port } = await listenOnFreshLoopback(server);
    record.host = host;
    record.port = port;
    record.uri = `http://${host}:${port}`;
    this.nixServers.set(record.name, server);
  }

  private async onNixRequest(record: CacheRecord, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx = this.requestContext(req, res);
    const entry = startLogEntry(this.log, req, res, 'nix', record.name);
    const fault = this.faults.decide('nix', req.method ?? 'GET', ctx.path);
    if (fault !== undefined) entry.fault = fault;
    await this.serve(ctx, fault, () => handleNix(ctx, record));
  }

  private requestContext(req: IncomingMessage, res: ServerResponse): RequestContext {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    return { ...this.context, req, res, path: url.pathname, query: url.searchParams };
  }

  /** Applies the fault (if any), then the handler; errors become short JSON answers. */
  private async serve(ctx: RequestContext, fault: FaultKind | undefined, handler: () => Promise<void> | void): Promise<void> {
    const { req, res } = ctx;
    try {
      if (fault !== undefined && (await this.injectFault(ctx, fault))) return;
      await handler();
    } catch (error) {
      if (req.destroyed && res.destroyed) return;
      const httpError =
        error instanceof HttpError ? error : new HttpError(500, `stand-in internal error: ${(error as Error).message}`);
      if (!(error instanceof HttpError)) console.error('stand-in:', error);
      await drain(req).catch(() => undefined);
      sendError(res, httpError);
    }
  }

  /** Returns true when the fault answered (or dropped) the request itself. */
  private async injectFault(ctx: RequestContext, fault: FaultKind): Promise<boolean> {
    const { req, res } = ctx;
    const settings = this.faults.settings;
    switch (fault) {
      case 'slow':
        await sleep(settings?.slowMs ?? 300);
        return false;
      case 'no-etag':
        return false;
      case 'reset':
        await readSomeOf(req);
        req.socket.destroy();
        return true;
      case '429': {
        await drain(req);
        const seconds = settings?.retryAfterSeconds ?? 1;
        if (settings?.problemJson) {
          sendJson(
            res,
            429,
            { type: 'about:blank', title: 'Too Many Requests', status: 429, detail: 'injected fault', retry_after: seconds },
            'application/problem+json',
          );
        } else {
          res.setHeader('Retry-After', String(seconds));
          sendText(res, 429, 'Too Many Requests (injected fault)\n');
        }
        return true;
      }
      default:
        await drain(req);
        sendText(res, Number(fault), `injected fault ${fault}\n`);
        return true;
    }
  }
}

/** Waits for the first chunk of a request body (if it has one), to drop the connection mid-upload. */
function readSomeOf(req: IncomingMessage): Promise<void> {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody || req.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      req.pause();
      resolve();
    };
    req.once('data', done);
    req.once('end', done);
    req.once('close', done);
  });
}

export async function startStandIn(options: StandInOptions = {}): Promise<StandIn> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'cachix-standin-'));
  const store = new StandInStore(dataDir, options.hostLabel ?? 'cachix.org', options.verifyNar ?? true);
  const faults = new FaultPlan(options.seed ?? 1, options.faults);
  let standIn: StandIn | undefined;
  const server = createServer((req, res) => void standIn!.onApiRequest(req, res));
  server.on('connection', (socket: Socket) => standIn!.onApiConnection(socket));
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => handleDeployLogUpgrade(standIn!.deploy, req, socket));
  const { host, port } = await listen(server, '127.0.0.1');
  const apiUrl = `http://${host}:${port}`;
  const context: StandInContext = {
    store,
    tokens: new TokenRegistry(),
    apiUrl,
    uploadSecret: randomBytes(32),
    minPartSize: options.minPartSize ?? 5 * 1024 * 1024,
    deploy: new DeployState(),
    openCache: (record) => standIn!.openCache(record),
  };
  standIn = new StandIn(server, apiUrl, context, faults, ownsDataDir);
  return standIn;
}
