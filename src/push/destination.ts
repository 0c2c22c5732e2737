import type { Readable } from 'node:stream';
import type { PathInfo } from '../nix/store.js';
import type { Compression } from './compression.js';
import type { NarSummary } from './nar-stream.js';

/** Signs narinfo fingerprints with the cache's secret key. */
export interface Signer {
  /** Nix key name (`name` in `Sig: name:base64`), when known. */
  keyName: string | undefined;
  /** Standard base64 of the ed25519 signature of `fingerprint`. */
  sign(fingerprint: string): string;
}

/** One store path on its way out: the compressed stream and how to describe it. */
export interface NarUpload {
  info: PathInfo;
  compression: Compression;
  compressed: Readable;
  /** Resolves after the stream is fully read, with values verified against the Nix database. */
  result: Promise<NarSummary>;
  signer: Signer | undefined;
  omitDeriver: boolean;
  /**
   * Settles once every reference of this path that is being pushed in the same run has been
   * registered. Destinations await it right before registering this path, so a cache never
   * shows a path whose references are missing, even after an interrupted push.
   */
  referencesPublished: Promise<void>;
}

/**
 * Where pushed paths go. The engine only asks these two questions, so a new kind of
 * cache (a directory, S3, …) slots in without touching it.
 */
export interface Destination {
  /** For messages: "cache mycache", "file:///srv/cache". */
  readonly label: string;
  /** Store hashes (32 chars) among `hashes` that the destination does not hold. */
  missingHashes(hashes: readonly string[], signal: AbortSignal): Promise<string[]>;
  /** Stores the NAR and then registers its narinfo; must not register anything if `result` rejects. */
  upload(nar: NarUpload, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Where and how a push (or a watch session) writes. */
export interface PushTarget {
  destination: Destination;
  compression: Compression;
  compressionLevel: number;
  signer: Signer | undefined;
}
