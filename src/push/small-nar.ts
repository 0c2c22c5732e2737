import { createHash } from 'node:crypto';
import { sha256Nix } from '../nix/base32.js';
import { serializeNar } from '../nix/nar-serializer.js';
import type { PathInfo } from '../nix/store.js';
import type { BatchCompressor } from './batch-compressor.js';
import type { NarSummary } from './nar-stream.js';

/** Paths up to this NAR size are serialised in memory and compressed in batches. */
export const SMALL_NAR_BYTES = 1024 * 1024;
/** Paths this small run many more at a time (see the engine's limiters). */
export const TINY_NAR_BYTES = 64 * 1024;

export interface SmallNar {
  compressed: Buffer;
  summary: NarSummary;
}

/**
 * The whole compressed NAR of a small path, or undefined when the in-memory NAR does not
 * match the Nix database (a file changed, or our serialiser disagrees with Nix): the
 * caller then takes the `nix-store --dump` route, whose verdict is authoritative.
 */
export async function prepareSmallNar(info: PathInfo, compressor: BatchCompressor): Promise<SmallNar | undefined> {
  let nar: Buffer;
  try {
    nar = serializeNar(info.path);
  } catch {
    return undefined;
  }
  const narHash = sha256Nix(createHash('sha256').update(nar).digest());
  if (narHash !== info.narHash || nar.length !== info.narSize) return undefined;
  const compressed = await compressor.compress(nar);
  return {
    compressed,
    summary: { narHash, narSize: nar.length, fileHash: createHash('sha256').update(compressed).digest('hex'), fileSize: compressed.length },
  };
}
