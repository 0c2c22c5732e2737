import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

// The worker only exists compiled (dist/push/hash-worker.js, built by the global setup), so this
// test drives the built module: the one the CLI runs.
const { OffloadedHash } = (await import(new URL('../../../dist/push/offloaded-hash.js', import.meta.url).href)) as typeof import('../../../src/push/offloaded-hash.js');

describe('hashing on worker threads through shared-memory slots', () => {
  it('gives the same digests as node:crypto for sizes around the slot boundaries', async () => {
    const MiB = 1024 * 1024;
    for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 5 * MiB + 123]) {
      const data = randomBytes(size);
      for (const algorithm of ['sha256', 'md5'] as const) {
        const hash = OffloadedHash.open(algorithm, 0);
        expect(hash.constructor.name).toBe('OffloadedHash');
        for (let i = 0; i < size; i += 65536) {
          hash.update(data.subarray(i, i + 65536));
          await hash.drained();
        }
        expect((await hash.digest()).equals(createHash(algorithm).update(data).digest()), `${algorithm} of ${size} bytes`).toBe(true);
      }
    }
  });

  it('keeps many interleaved sessions on both lanes apart, with back-pressure, without waiting forever', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => randomBytes(700_000 * (i + 1)));
    const sessions = inputs.map((_, i) => OffloadedHash.open(i % 2 === 0 ? 'sha256' : 'md5', (i % 2) as 0 | 1));
    // Feed all sessions round-robin in 100 kB pieces, ignoring drained() for half of them:
    // bytes must queue, not be lost or mixed up.
    for (let offset = 0; offset < inputs.at(-1)!.length; offset += 100_000) {
      await Promise.all(
        sessions.map(async (s, i) => {
          const piece = inputs[i]!.subarray(offset, offset + 100_000);
          s.update(piece);
          if (i % 4 < 2) await s.drained();
        }),
      );
    }
    const digests = await Promise.all(sessions.map((s) => s.digest()));
    digests.forEach((d, i) => expect(d.equals(createHash(i % 2 === 0 ? 'sha256' : 'md5').update(inputs[i]!).digest())).toBe(true));
  });
});
