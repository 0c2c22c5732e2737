import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chunk, MAX_PARTS, partSizeFor, type ChunkOptions, type Part } from '../../../src/push/chunker.js';

async function* from(buffers: Buffer[]) {
  for (const b of buffers) yield b;
}

async function collect(buffers: Buffer[], size: number, options: Partial<ChunkOptions> = {}) {
  const parts: Part[] = [];
  for await (const p of chunk(from(buffers), { partSize: size, ...options })) parts.push(p);
  return parts;
}

async function bytesOf(part: Part): Promise<Buffer> {
  const body = part.body();
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const c of body as Readable) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('chunk', () => {
  it('cuts exact part sizes, numbers from 1, and keeps every byte in order', async () => {
    const data = randomBytes(10_000);
    const pieces = [data.subarray(0, 1), data.subarray(1, 4000), data.subarray(4000, 4001), data.subarray(4001)];
    const parts = await collect(pieces, 3000);
    expect(parts.map((p) => p.size)).toEqual([3000, 3000, 3000, 1000]);
    expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4]);
    const bodies = await Promise.all(parts.map(bytesOf));
    expect(Buffer.concat(bodies).equals(data)).toBe(true);
    parts.forEach((p, i) => expect(p.md5).toBe(createHash('md5').update(bodies[i]!).digest('base64')));
  });

  it('spills parts above the threshold to spool files, re-readable for retries, removed on dispose', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'chunker-test-'));
    const data = randomBytes(5_000_000);
    const pieces = Array.from({ length: 80 }, (_, i) => data.subarray(i * 62_500, (i + 1) * 62_500));
    const parts = await collect(pieces, 2_000_000, { spoolDir, spillBytes: 1_500_000 });
    expect(parts.map((p) => p.size)).toEqual([2_000_000, 2_000_000, 1_000_000]);
    // The two full parts went to disk, the short last one stayed in memory.
    expect(parts.map((p) => Buffer.isBuffer(p.body()))).toEqual([false, false, true]);
    expect((await readdir(spoolDir)).length).toBe(2);
    const first = await bytesOf(parts[0]!);
    expect((await bytesOf(parts[0]!)).equals(first)).toBe(true); // a retry reads the same bytes again
    expect(Buffer.concat(await Promise.all(parts.map(bytesOf))).equals(data)).toBe(true);
    parts.forEach((p) => expect(p.md5).toBe(createHash('md5').update(data.subarray((p.partNumber - 1) * 2_000_000, p.partNumber * 2_000_000)).digest('base64')));
    await Promise.all(parts.map((p) => p.dispose()));
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('removes a half-written spool file when the consumer stops early', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'chunker-test-'));
    const source = Readable.from([randomBytes(3_000_000), randomBytes(3_000_000)]);
    for await (const part of chunk(source, { partSize: 4_000_000, spoolDir, spillBytes: 1_000_000 })) {
      await part.dispose();
      break; // the second part (2 MB, spilled) is being built when the loop stops
    }
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('emits no empty trailing part when the size is an exact multiple (unlike the real client)', async () => {
    const parts = await collect([randomBytes(6000)], 3000);
    expect(parts.map((p) => p.size)).toEqual([3000, 3000]);
  });

  it('emits a single empty part for an empty stream', async () => {
    const parts = await collect([], 3000);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.size).toBe(0);
    expect(parts[0]!.md5).toBe(createHash('md5').digest('base64'));
    expect((await bytesOf(parts[0]!)).length).toBe(0);
  });
});

describe('partSizeFor', () => {
  const MiB = 1024 * 1024;
  it('keeps the requested size when 10,000 parts suffice', () => {
    expect(partSizeFor(32 * MiB, 1024 * MiB, 5 * 1024 * MiB)).toBe(32 * MiB);
  });

  it('raises the part size so a huge NAR needs at most 10,000 parts', () => {
    const nar = 500 * 1024 * MiB; // 500 GiB
    const size = partSizeFor(32 * MiB, nar, 5 * 1024 * MiB);
    expect(size).toBeGreaterThan(32 * MiB);
    expect(size % MiB).toBe(0);
    expect(Math.ceil((nar * 1.02) / size)).toBeLessThanOrEqual(MAX_PARTS);
  });

  it('never exceeds the maximum part size', () => {
    expect(partSizeFor(32 * MiB, 1e15, 5 * 1024 * MiB)).toBe(5 * 1024 * MiB);
  });
});
