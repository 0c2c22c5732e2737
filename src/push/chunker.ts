import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { OffloadedHash, type IncrementalHash } from './offloaded-hash.js';

/** One part of a multipart upload. */
export interface Part {
  partNumber: number;
  size: number;
  /** Standard base64 of the MD5 digest (the Content-MD5 header value). */
  md5: string;
  /** A fresh body for each attempt (retries re-read it): the bytes in memory, or a stream of the spool file. */
  body(): Buffer | Readable;
  /** Frees the part's memory or spool file. */
  dispose(): Promise<void>;
}

export interface ChunkOptions {
  partSize: number;
  /** Directory for parts that outgrow `spillBytes`; without it, parts stay in memory. */
  spoolDir?: string;
  /** A part larger than this is written to a spool file instead of being held in memory. */
  spillBytes?: number;
}

const DEFAULT_SPILL = 1024 * 1024;
/** Spool writes are gathered to about this size, so a part costs a few syscalls, not thousands. */
const WRITE_BATCH = 1024 * 1024;
let spoolCounter = 0;

/**
 * Cuts a byte stream into parts of exactly `partSize` bytes (the last one shorter),
 * numbered from 1. Unlike the real client it never emits an empty trailing part; an empty
 * stream still yields one empty part, since an upload needs at least one. Bytes are never
 * copied in memory (boundary buffers are split with subarray), and a part bigger than
 * `spillBytes` goes to a spool file, so memory does not grow with the part size: a 2 GiB
 * NAR with 32 MiB parts, 4 in flight, holds a few MiB of RAM.
 */
export async function* chunk(source: AsyncIterable<Buffer>, options: ChunkOptions): AsyncGenerator<Part> {
  const spill = options.spoolDir === undefined ? Infinity : (options.spillBytes ?? DEFAULT_SPILL);
  let partNumber = 1;
  let current = new PartBuilder(partNumber, options.spoolDir, spill);
  try {
    for await (const input of source) {
      let buffer = input;
      while (buffer.length > 0) {
        const take = Math.min(options.partSize - current.size, buffer.length);
        await current.add(take === buffer.length ? buffer : buffer.subarray(0, take));
        buffer = buffer.subarray(take);
        if (current.size === options.partSize) {
          yield await current.finish();
          current = new PartBuilder(++partNumber, options.spoolDir, spill);
        }
      }
    }
    if (current.size > 0 || partNumber === 1) yield await current.finish();
  } finally {
    await current.abandon();
  }
}

/**
 * Builds one part. Its MD5 is computed where the bytes go: pieces held in memory are hashed
 * inline when the part is finished (at most `spill` bytes), pieces written to the spool
 * file are hashed on a worker thread as they are written.
 */
class PartBuilder {
  size = 0;
  private offloaded: IncrementalHash | undefined;
  private buffers: Buffer[] = [];
  private buffered = 0;
  private file: { path: string; handle: FileHandle } | undefined;
  private finished = false;

  constructor(
    private readonly partNumber: number,
    private readonly spoolDir: string | undefined,
    private readonly spill: number,
  ) {}

  async add(piece: Buffer): Promise<void> {
    this.buffers.push(piece);
    this.size += piece.length;
    this.buffered += piece.length;
    if (this.file === undefined && this.size > this.spill) {
      const path = join(this.spoolDir!, `part-${process.pid}-${spoolCounter++}`);
      this.file = { path, handle: await open(path, 'w', 0o600) };
      this.offloaded = OffloadedHash.open('md5', 1);
    }
    if (this.file && this.buffered >= WRITE_BATCH) await this.flush();
  }

  async finish(): Promise<Part> {
    this.finished = true;
    if (this.file) {
      await this.flush();
      await this.file.handle.close();
      const base = { partNumber: this.partNumber, size: this.size, md5: (await this.offloaded!.digest()).toString('base64') };
      const { path } = this.file;
      return { ...base, body: () => createReadStream(path, { highWaterMark: 256 * 1024 }), dispose: () => rm(path, { force: true }) };
    }
    const buffers = this.buffers;
    const body = buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers, this.size);
    this.buffers = [];
    const base = { partNumber: this.partNumber, size: this.size, md5: createHash('md5').update(body).digest('base64') };
    return { ...base, body: () => body, dispose: async () => undefined };
  }

  /** On failure or cancellation: close and delete a half-written spool file. */
  async abandon(): Promise<void> {
    if (this.finished || !this.file) return;
    await this.file.handle.close().catch(() => undefined);
    await rm(this.file.path, { force: true });
  }

  private async flush(): Promise<void> {
    const buffers = this.buffers;
    this.buffers = [];
    this.buffered = 0;
    if (buffers.length === 0) return;
    for (const b of buffers) this.offloaded!.update(b);
    await Promise.all([this.file!.handle.writev(buffers), this.offloaded!.drained()]);
  }
}

/** S3 allows at most 10,000 parts: raise the part size when a NAR would need more (real cachix #639). */
export const MAX_PARTS = 10_000;
const MiB = 1024 * 1024;

export function partSizeFor(requested: number, expectedBytes: number, maxPartSize: number): number {
  // Compressed output can exceed the NAR size slightly for incompressible data: leave 2 % slack.
  const needed = Math.ceil((expectedBytes * 1.02 + MiB) / MAX_PARTS);
  if (needed <= requested) return requested;
  return Math.min(maxPartSize, Math.ceil(needed / MiB) * MiB);
}
