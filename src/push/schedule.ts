import pLimit, { type LimitFunction } from 'p-limit';
import type { PathInfo } from '../nix/store.js';
import { SMALL_NAR_BYTES, TINY_NAR_BYTES } from './small-nar.js';

/**
 * When each missing path may run, and when it may be registered.
 *
 * Concurrency comes in tiers: large paths hold processes and spool files, so `jobs` bounds
 * them; small ones are cheap and held in memory, so more run at once (which also lets the
 * batch compressor gather them), with the bytes in flight bounded: <= 32 × jobs × 64 KiB and
 * <= 8 × jobs × 1 MiB.
 *
 * Registration follows references: a path's `referencesPublished` settles once every
 * reference pushed in the same run was registered. Each limiter is FIFO over the closure's
 * topological order (references first), so these waits cannot deadlock: every wait, for a
 * slot or for a reference, points at an earlier path.
 */
export class PushSchedule {
  private readonly large: LimitFunction;
  private readonly small: LimitFunction;
  private readonly tiny: LimitFunction;
  private readonly published: Map<string, Deferred>;

  constructor(missing: readonly string[], jobs: number) {
    this.large = pLimit(jobs);
    this.small = pLimit(jobs * 8);
    this.tiny = pLimit(jobs * 32);
    this.published = new Map(missing.map((path) => [path, deferred()]));
  }

  /** Runs `task` for `info` when its tier has room; records the outcome for its referrers. */
  run<T>(info: PathInfo, task: (referencesPublished: Promise<void>) => Promise<T>): Promise<T> {
    const limit = info.narSize <= TINY_NAR_BYTES ? this.tiny : info.narSize <= SMALL_NAR_BYTES ? this.small : this.large;
    return limit(async () => {
      const own = this.published.get(info.path)!;
      try {
        const result = await task(this.referencesOf(info));
        own.resolve();
        return result;
      } catch (error) {
        own.reject(error);
        throw error;
      }
    });
  }

  private referencesOf(info: PathInfo): Promise<void> {
    const refs = info.references.filter((r) => r !== info.path && this.published.has(r));
    const all = Promise.all(refs.map((r) => this.published.get(r)!.promise)).then(() => undefined);
    all.catch(() => undefined); // a destination that fails before awaiting it must not leave it unhandled
    return all;
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting on a failed path; its failure is reported by the engine itself.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
