/**
 * Store paths that arrive over time (from the store watcher, a build hook or daemon clients),
 * gathered into batches: a batch goes when it holds `batchSize` paths or `batchTimeoutMs` after
 * its first one arrived (the real client's --narinfo-batch-size / --narinfo-batch-timeout), so
 * a build that registers hundreds of paths costs a few closure and missing-path queries, not
 * hundreds. Batches run at once; the push session they share bounds the work.
 */
export interface PushQueueOptions {
  batchSize: number;
  batchTimeoutMs: number;
  /** Pushes one batch; calls `planned` once its paths are claimed (queued → pushing). */
  pushBatch: (paths: string[], planned: () => void) => Promise<void>;
}

export class PushQueue {
  private pending: string[] = [];
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private planning = 0;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: PushQueueOptions) {}

  /** Queues paths not queued before (a path is pushed at most once per session). */
  add(paths: Iterable<string>): void {
    for (const path of paths) {
      if (this.seen.has(path)) continue;
      this.seen.add(path);
      this.pending.push(path);
    }
    while (this.pending.length >= this.options.batchSize) this.send(this.pending.splice(0, this.options.batchSize));
    if (this.pending.length === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    } else {
      this.timer ??= setTimeout(() => this.flush(), this.options.batchTimeoutMs);
    }
  }

  /** Paths waiting for their batch to be planned. */
  get queued(): number {
    return this.pending.length + this.planning;
  }

  /** Sends what is pending now, without waiting for the batch to fill. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) this.send(this.pending.splice(0, this.options.batchSize));
  }

  private send(batch: string[]): void {
    this.planning += batch.length;
    let planned = false;
    const markPlanned = (): void => {
      if (planned) return;
      planned = true;
      this.planning -= batch.length;
    };
    const task = this.options.pushBatch(batch, markPlanned).finally(() => {
      markPlanned();
      this.running.delete(task);
    });
    task.catch(() => undefined); // pushBatch reports its own failures; drain() only waits
    this.running.add(task);
  }

  /** Sends what is pending and waits until every batch has finished (their failures are the caller's to report). */
  async drain(): Promise<void> {
    this.flush();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
