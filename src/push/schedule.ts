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
 * reference pushed in the same session was registered. Each limiter is FIFO over the closure's
 * topological order (references first), so these waits cannot deadlock: every wait, for a
 * slot or for a reference, points at an earlier path.
 *
 * One schedule can serve several pushes (the batches of watch-store and the daemon): the
 * limits hold across all of them, and a path claimed by one batch is pushed once, its
 * referrers in later batches waiting for it like any other reference.
 */
export class PushSchedule {
  private readonly large: LimitFunction;
  private readonly small: LimitFunction;
  private readonly tiny: LimitFunction;
  private readonly published = new Map<string, Deferred>();

  constructor(jobs: number) {
    this.large = pLimit(jobs);
    this.small = pLimit(jobs * 8);
    this.tiny = pLimit(jobs * 32);
  }

  /** Takes on `paths` (in closure order); returns those no earlier push of this schedule claimed. */
  claim(paths: readonly string[]): string[] {
    const claimed = paths.filter((path) => !this.published.has(path));
    for (const path of claimed) this.published.set(path, deferred());
    return claimed;
  }

  claimed(path: string): boolean {
    return this.published.has(path);
  }

  /** Fails those of `paths` that never ran (their push was cancelled or its planning failed): referrers must not wait for them. */
  abandon(paths: readonly string[], reason: unknown): void {
    for (const path of paths) {
      const d = this.published.get(path);
      if (d && !d.settled) d.reject(reason);
    }
  }

  /** Resolves once every claimed one of `paths` has been registered or has failed. */
  async settled(paths: readonly string[]): Promise<void> {
    await Promise.allSettled(paths.map((p) => this.published.get(p)?.promise));
  }

  /** Claimed paths whose push has not settled yet. */
  get unsettled(): number {
    let count = 0;
    for (const d of this.published.values()) if (!d.settled) count++;
    return count;
  }

  /** Runs `task` for `info` when its tier has room; records the outcome for its referrers. */
  run<T>(info: PathInfo, task: (referencesPublished: Promise<void>) => Promise<T>): Promise<T> {
    const limit = info.narSize <= TINY_NAR_BYTES ? this.tiny : info.narSize <= SMALL_NAR_BYTES ? this.small : this.large;
    return limit(async () => {
      const own = this.published.get(info.path)!;
      try {
        const result = await task(this.referencesOf(info));
        own.resolve();
        // A long watch session pushes many paths: keep just the key of each one done.
        this.published.set(info.path, PUBLISHED);
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
  settled: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Shared by every path that was registered. */
const PUBLISHED: Deferred = { promise: Promise.resolve(), settled: true, resolve: () => undefined, reject: () => undefined };

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting on a failed path; its failure is reported by the engine itself.
  promise.catch(() => undefined);
  const d: Deferred = {
    promise,
    settled: false,
    resolve: () => {
      d.settled = true;
      resolve();
    },
    reject: (error) => {
      d.settled = true;
      reject(error);
    },
  };
  return d;
}
