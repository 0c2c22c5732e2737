import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunk, MAX_PARTS, partSizeFor } from '../../../src/push/chunker.js';

async function* from(buffers: Buffer[]) {
  for (const b of buffers) yield b;
}

async function collect(buffers: Buffer[], size: number) {
  const parts = [];
  for await (const p of chunk(from(buffers), size)) parts.push(p);
  return parts;
}

describe('chunk', () => {
  it('cuts exact part sizes, numbers from 1, and keeps every byte in order', async () => {
    const data = randomBytes(10_000);
    const pieces = [data.subarray(0, 1), data.subarray(1, 4000), data.subarray(4000, 4001), data.subarray(4001)];
    const parts = await collect(pieces, 3000);
    expect(parts.map((p) => p.size)).toEqual([3000, 3000, 3000, 1000]);
    expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4]);
    expect(Buffer.concat(parts.flatMap((p) => p.buffers))).toEqual(data);
    for (const p of parts) {
      expect(p.md5).toBe(createHash('md5').update(Buffer.concat(p.buffers)).digest('base64'));
    }
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
