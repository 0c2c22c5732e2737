import type { Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/**
 * Writes `source` to `file` and feeds every byte to `hash` on the way (one pass over the data);
 * resolves with the byte count. A failed write leaves no partial file behind.
 */
export async function writeHashed(source: AsyncIterable<Buffer>, file: string, hash: Hash): Promise<number> {
  let size = 0;
  try {
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(file),
    );
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
  return size;
}
