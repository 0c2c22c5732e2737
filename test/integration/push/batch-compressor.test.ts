import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BatchCompressor } from '../../../src/push/batch-compressor.js';

const decompress = (program: 'zstd' | 'xz', data: Buffer): Buffer => {
  const r = spawnSync(program, ['-d', '-c', '-q'], { input: data });
  if (r.status !== 0) throw new Error(`${program} -d: ${r.stderr.toString()}`);
  return r.stdout;
};
const input = (i: number): Buffer => Buffer.from(`NAR ${i} `.repeat(50 + i));

describe('BatchCompressor', () => {
  for (const method of ['zstd', 'xz'] as const) {
    it(`gives each ${method} input its own frame, in order`, async () => {
      const compressor = new BatchCompressor(method, 3);
      try {
        const outputs = await Promise.all(Array.from({ length: 40 }, (_, i) => compressor.compress(input(i))));
        outputs.forEach((out, i) => expect(decompress(method, out).equals(input(i))).toBe(true));
        expect(compressor.stats.runs).toBe(1); // arrived together: one process
      } finally {
        await compressor.close();
      }
    });
  }

  it('runs at most maxRuns compressors at once; what arrives meanwhile joins the next batch', async () => {
    const compressor = new BatchCompressor('zstd', 3, { maxBatch: 256, firstDelayMs: 0, delayMs: 0, maxRuns: 1 });
    try {
      // A request every millisecond: one spawn each without the limit.
      const results: Promise<Buffer>[] = [];
      for (let i = 0; i < 60; i++) {
        results.push(compressor.compress(input(i)));
        await sleep(1);
      }
      const outputs = await Promise.all(results);
      outputs.forEach((out, i) => expect(decompress('zstd', out).equals(input(i))).toBe(true));
      expect(compressor.stats.mostAtOnce).toBe(1);
      expect(compressor.stats.runs).toBeLessThan(30);
    } finally {
      await compressor.close();
    }
  });

  it('splits more than maxBatch waiting inputs over several runs', async () => {
    const compressor = new BatchCompressor('zstd', 1, { maxBatch: 8, firstDelayMs: 0, delayMs: 0, maxRuns: 2 });
    try {
      const outputs = await Promise.all(Array.from({ length: 20 }, (_, i) => compressor.compress(input(i))));
      outputs.forEach((out, i) => expect(decompress('zstd', out).equals(input(i))).toBe(true));
      expect(compressor.stats.runs).toBe(3);
      expect(compressor.stats.mostAtOnce).toBe(2);
    } finally {
      await compressor.close();
    }
  });

  it('a failing compressor rejects every input of its batch with one clear error', async () => {
    // The CLI never passes a negative level; zstd refuses `--5` as an unknown option.
    const compressor = new BatchCompressor('zstd', -5);
    try {
      const results = await Promise.allSettled([compressor.compress(input(1)), compressor.compress(input(2))]);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect(String((r as PromiseRejectedResult).reason)).toBe('CachixError: zstd failed: Incorrect parameters');
      }
    } finally {
      await compressor.close();
    }
  });
});
