/** Public types of the Cachix API stand-in (see index.ts for the entry point). */
import type { Permission, PinCreate, PinKeep } from '../../../src/api/types.js';

export type { Permission, PinCreate, PinKeep };

/** Which listener a request arrived on: the JSON API, the presigned upload URLs, or a cache's Nix-facing host. */
export type RouteKind = 'api' | 'upload' | 'nix';

/**
 * Fault kinds. `reset` destroys the socket mid-request; `slow` delays the answer by
 * `slowMs` and then handles the request normally; `no-etag` (upload only) stores the part
 * but answers without an ETag header, as a misbehaving proxy might.
 */
/** Status codes are answered as such (403: a refusal no retry can cure); the others are described in server.ts. */
export type FaultKind = '500' | '502' | '503' | '429' | '403' | 'reset' | 'slow' | 'no-etag';

export interface FaultConfig {
  /** Probability (0..1) that a request on a route listed in `on` gets a fault. */
  rate: number;
  kinds: FaultKind[];
  /** Default: ['api', 'upload']. */
  on?: RouteKind[];
  /** Seconds advertised on 429 answers (header, or `retry_after` with problemJson). Default 1. */
  retryAfterSeconds?: number;
  /** Delay for `slow`. Default 300 ms. */
  slowMs?: number;
  /** 429s carry an `application/problem+json` body with `retry_after` instead of a Retry-After header. */
  problemJson?: boolean;
}

/** A one-shot fault aimed at the next `count` matching requests (checked before random faults). */
export interface TargetedFault {
  route: RouteKind;
  kind: FaultKind;
  /** Default 1. */
  count?: number;
  /** Only requests whose path contains this text (e.g. '/complete') match. */
  pathIncludes?: string;
  /** Only this HTTP method matches. */
  method?: string;
}

export interface InjectedFault {
  route: RouteKind;
  kind: FaultKind;
  method: string;
  path: string;
}

export interface LogEntry {
  method: string;
  /** Path plus query, as received. */
  url: string;
  /** Path without the query. */
  path: string;
  /** Request headers, names lower-case. */
  headers: Record<string, string | string[] | undefined>;
  /** Response status; 0 while in flight, -1 when the connection was dropped without an answer. */
  status: number;
  route: RouteKind;
  /** Cache name for 'nix' requests and cache API routes. */
  cache?: string;
  /** The fault injected into this request, if any. */
  fault?: FaultKind;
  /** Milliseconds since the epoch at arrival. */
  ts: number;
}

export interface StandInOptions {
  /** Seed of the fault generator (mulberry32). Default 1. */
  seed?: number;
  faults?: FaultConfig;
  /** Where NARs, parts and narinfos live. Default: a fresh temp dir removed on close(). */
  dataDir?: string;
  /** S3's minimum size of every part but the last. Default 5 MiB. */
  minPartSize?: number;
  /**
   * Decompress each NAR on complete and check NarHash/NarSize against it. Default true; the
   * benchmarks turn it off so the server's own CPU use does not count against the client.
   */
  verifyNar?: boolean;
  /** Host label in key names and nominal URIs (`{name}.<label>-1`). Default 'cachix.org'. */
  hostLabel?: string;
}

export interface AddCacheOptions {
  name: string;
  /** Default true. */
  isPublic?: boolean;
  /** Default 'ZSTD'. */
  preferredCompressionMethod?: 'ZSTD' | 'XZ';
  /** The server holds a secret key and signs uploads whose cSig is null (token-only pushes). */
  managedKey?: boolean;
  /** Self-signed cache: a Nix public key `name:base64`, or bare base64 (named `{name}.<label>-1`). */
  publicKey?: string;
  githubUsername?: string;
}
