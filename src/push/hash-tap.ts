import { Transform, type TransformCallback } from 'node:stream';
import { OffloadedHash, type IncrementalHash } from './offloaded-hash.js';

/**
 * A pass-through stage that counts bytes and hashes them (sha256) on a worker thread, so
 * the main thread only moves bytes. `lane` picks the worker: 0 for the NAR, 1 for the
 * compressed stream.
 */
export class HashTap extends Transform {
  private readonly hash: IncrementalHash;
  private count = 0;

  constructor(lane: 0 | 1, private readonly onBytes?: (total: number) => void) {
    super({ highWaterMark: 256 * 1024 });
    this.hash = OffloadedHash.open('sha256', lane);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    this.onBytes?.(this.count);
    // Hold the stream (and so the producer) while the hashing worker is behind.
    this.hash.drained().then(() => callback(null, chunk), callback);
  }

  get size(): number {
    return this.count;
  }

  /** The sha256 digest of everything that passed; call once the stream has ended. */
  digest(): Promise<Buffer> {
    return this.hash.digest();
  }
}
