import { createHash } from 'node:crypto';

/** One part of a multipart upload: the buffers as they came (no copy), their size and MD5. */
export interface Part {
  partNumber: number;
  buffers: Buffer[];
  size: number;
  /** Standard base64 of the MD5 digest (the Content-MD5 header value). */
  md5: string;
}

/**
 * Cuts a byte stream into parts of exactly `partSize` bytes (the last one shorter),
 * numbered from 1. Unlike the real client it never emits an empty trailing part; an
 * empty stream still yields one empty part, since an upload needs at least one.
 * Boundary buffers are split with subarray, so bytes are never copied.
 */
export async function* chunk(source: AsyncIterable<Buffer>, partSize: number): AsyncGenerator<Part> {
  let buffers: Buffer[] = [];
  let size = 0;
  let md5 = createHash('md5');
  let partNumber = 1;
  const emit = (): Part => {
    const part = { partNumber: partNumber++, buffers, size, md5: md5.digest('base64') };
    buffers = [];
    size = 0;
    md5 = createHash('md5');
    return part;
  };
  for await (const input of source) {
    let buffer = input;
    while (buffer.length > 0) {
      const take = Math.min(partSize - size, buffer.length);
      const piece = take === buffer.length ? buffer : buffer.subarray(0, take);
      buffers.push(piece);
      md5.update(piece);
      size += take;
      buffer = buffer.subarray(take);
      if (size === partSize) yield emit();
    }
  }
  if (size > 0 || partNumber === 1) yield emit();
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
