/** What every route handler gets: the request, its state, and the access rules. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { atLeast, callerOf, type TokenRegistry } from './auth.js';
import { HttpError } from './http.js';
import type { DeployState } from './deploy.js';
import type { CacheRecord, StandInStore } from './store.js';
import type { Permission } from './types.js';

export interface StandInContext {
  store: StandInStore;
  tokens: TokenRegistry;
  apiUrl: string;
  /** HMAC key of the presigned upload URLs. */
  uploadSecret: Buffer;
  minPartSize: number;
  deploy: DeployState;
  /** Starts the Nix-facing listener of a cache created over the API. */
  openCache(record: CacheRecord): Promise<void>;
}

export interface RequestContext extends StandInContext {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: URLSearchParams;
}

/** The calling token's permission on a cache: explicit grant, else Read on a public cache. */
export function permissionOf(ctx: RequestContext, cache: CacheRecord): Permission | undefined {
  const caller = callerOf(ctx.req);
  if (caller.malformed) return undefined;
  return ctx.tokens.permission(caller.token, cache.name) ?? (cache.isPublic ? 'Read' : undefined);
}

/**
 * Looks the cache up and enforces access: unknown cache 404; no read access 401 (private
 * cache, anonymous or unknown token); below `need` 403. With `selfSignedUpload`, anyone who
 * can read a self-signed cache may upload: the signature check at publication is the
 * credential (spec §6.11).
 */
export function requireCache(ctx: RequestContext, name: string, need: Permission, options: { selfSignedUpload?: boolean } = {}): CacheRecord {
  const cache = ctx.store.caches.get(name);
  if (!cache) throw new HttpError(404, `Binary cache ${name} does not exist`);
  const have = permissionOf(ctx, cache);
  if (have === undefined) throw new HttpError(401, `You need a valid token with access to the private cache ${name}`);
  if (atLeast(have, need)) return cache;
  if (options.selfSignedUpload && ctx.store.isSelfSigned(cache)) return cache;
  throw new HttpError(403, `Your token has ${have} permission on cache ${name}; this needs ${need}`);
}
