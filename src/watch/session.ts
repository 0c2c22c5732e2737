import type { NixStore } from '../nix/store.js';
import { openPushSession, push, type PathRetryPolicy } from '../push/engine.js';
import type { PushEventSink } from '../push/events.js';
import type { PushTarget } from '../push/destination.js';
import { PushQueue } from './push-queue.js';

export interface WatchSessionOptions {
  store: NixStore;
  target: PushTarget;
  jobs: number;
  omitDeriver: boolean;
  events: PushEventSink;
  signal: AbortSignal;
  pathRetry: PathRetryPolicy;
  batchSize: number;
  batchTimeoutMs: number;
}

/**
 * Pushes store paths as they are reported (watch-store, watch-exec): batches from a queue
 * go through the push engine in one session, so limits hold across batches and each path is
 * pushed once. A failed path is reported and the rest go on; `finish()` waits for the queue
 * to empty and says how it went.
 */
export class WatchSession {
  private readonly session;
  private readonly queue: PushQueue;
  private pushed = 0;
  private failed = 0;
  /** pushNow() batches in flight: finish() waits for them too. */
  private readonly direct = new Set<Promise<unknown>>();

  constructor(private readonly options: WatchSessionOptions) {
    this.session = openPushSession({ jobs: options.jobs, compression: options.target.compression, compressionLevel: options.target.compressionLevel });
    this.queue = new PushQueue({
      batchSize: options.batchSize,
      batchTimeoutMs: options.batchTimeoutMs,
      pushBatch: async (paths, planned) => {
        await this.pushBatch(paths, planned);
      },
    });
  }

  add(paths: Iterable<string>): void {
    this.queue.add(paths);
  }

  /**
   * Pushes `paths` now, outside the queue, and resolves once their closures are in the cache
   * (or failed): for a client that waits (`daemon push --wait`). `listener` also gets this
   * batch's events.
   */
  pushNow(paths: string[], listener: PushEventSink): Promise<{ pushed: number; failed: number }> {
    const task = this.pushBatch(paths, () => undefined, listener);
    const tracked = task.finally(() => this.direct.delete(tracked));
    this.direct.add(tracked);
    return task;
  }

  status(): { pushing: number; queued: number } {
    return { pushing: this.session.schedule.unsettled, queued: this.queue.queued };
  }

  /** Pushes what is queued, waits for every batch, and closes the session and its destination. */
  async finish(): Promise<{ pushed: number; failed: number }> {
    try {
      await this.queue.drain();
      while (this.direct.size > 0) await Promise.allSettled([...this.direct]);
    } finally {
      await this.session.close();
      await this.options.target.destination.close();
    }
    return { pushed: this.pushed, failed: this.failed };
  }

  private async pushBatch(paths: string[], planned: () => void, listener?: PushEventSink): Promise<{ pushed: number; failed: number }> {
    const { options } = this;
    try {
      const summary = await push({
        store: options.store,
        destination: options.target.destination,
        inputs: paths,
        compression: options.target.compression,
        compressionLevel: options.target.compressionLevel,
        jobs: options.jobs,
        omitDeriver: options.omitDeriver,
        signer: options.target.signer,
        signal: options.signal,
        pathRetry: options.pathRetry,
        session: this.session,
        keepGoing: true,
        events: (event) => {
          if (event.type === 'planned') planned();
          options.events(event);
          listener?.(event);
        },
      });
      this.pushed += summary.pushed;
      this.failed += summary.failed;
      return { pushed: summary.pushed, failed: summary.failed };
    } catch (error) {
      if (options.signal.aborted) return { pushed: 0, failed: 0 };
      // The batch failed before its paths could be pushed (the server is down, say).
      this.failed += paths.length;
      const event = { type: 'batch-failed', paths, error } as const;
      options.events(event);
      listener?.(event);
      return { pushed: 0, failed: paths.length };
    }
  }
}
