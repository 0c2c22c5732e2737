import { describe, expect, it } from 'vitest';
import { PushQueue } from '../../../src/watch/push-queue.js';

/** A queue whose batches are recorded and finish when the test says so. */
function recordingQueue(batchSize: number, batchTimeoutMs: number) {
  const batches: { paths: string[]; planned: () => void; finish: () => void }[] = [];
  const queue = new PushQueue({
    batchSize,
    batchTimeoutMs,
    pushBatch: (paths, planned) =>
      new Promise<void>((resolve) => {
        batches.push({ paths, planned, finish: resolve });
      }),
  });
  return { queue, batches };
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PushQueue', () => {
  it('sends a batch as soon as it is full, in arrival order', () => {
    const { queue, batches } = recordingQueue(3, 10_000);
    queue.add(['a', 'b']);
    expect(batches).toHaveLength(0);
    queue.add(['c', 'd']);
    expect(batches.map((b) => b.paths)).toEqual([['a', 'b', 'c']]);
    expect(queue.queued).toBe(4); // three planning, one pending
  });

  it('sends a partial batch after the timeout, counted from its first path', async () => {
    const { queue, batches } = recordingQueue(100, 40);
    queue.add(['a']);
    await tick(20);
    queue.add(['b']);
    await tick(30);
    expect(batches.map((b) => b.paths)).toEqual([['a', 'b']]);
  });

  it('queues a path once per session', () => {
    const { queue, batches } = recordingQueue(2, 10_000);
    queue.add(['a', 'a', 'b']);
    queue.add(['b', 'a', 'c']);
    queue.flush();
    expect(batches.map((b) => b.paths)).toEqual([['a', 'b'], ['c']]);
  });

  it('counts a batch as queued until it is planned, then not', () => {
    const { queue, batches } = recordingQueue(2, 10_000);
    queue.add(['a', 'b', 'c']);
    expect(queue.queued).toBe(3);
    batches[0]!.planned();
    batches[0]!.planned(); // idempotent
    expect(queue.queued).toBe(1);
  });

  it('drain sends what is pending and resolves only when every batch finished', async () => {
    const { queue, batches } = recordingQueue(100, 10_000);
    queue.add(['a', 'b']);
    let drained = false;
    const draining = queue.drain().then(() => (drained = true));
    await tick(5);
    expect(batches.map((b) => b.paths)).toEqual([['a', 'b']]);
    expect(drained).toBe(false);
    batches[0]!.finish();
    await draining;
    expect(queue.queued).toBe(0);
  });

  it('a batch that fails does not stop drain or later batches', async () => {
    let calls = 0;
    const queue = new PushQueue({
      batchSize: 1,
      batchTimeoutMs: 10_000,
      pushBatch: async () => {
        calls++;
        if (calls === 1) throw new Error('server down');
      },
    });
    queue.add(['a', 'b']);
    await queue.drain();
    expect(calls).toBe(2);
  });
});
