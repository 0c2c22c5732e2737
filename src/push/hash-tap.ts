import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** A pass-through stage that counts bytes and hashes them (sha256) on the way. */
export class HashTap extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;
  private digestValue: Buffer | undefined;

  constructor(private readonly onBytes?: (total: number) => void) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    this.onBytes?.(this.count);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.digestValue = this.hash.digest();
    callback();
  }

  get size(): number {
    return this.count;
  }

  /** The sha256 digest; only valid once the stream has ended. */
  get digest(): Buffer {
    if (!this.digestValue) throw new Error('HashTap: digest read before the stream ended');
    return this.digestValue;
  }
}
