import type { PushOptions } from '../cli.js';
import { loadSettings } from '../config/settings.js';
import { pathRetryPolicy } from '../config/tuning.js';
import type { Context } from '../context.js';
import { parseCacheTarget } from '../nix/cache-name.js';
import type { NixStore } from '../nix/store.js';
import { watchRenderer } from '../ui/watch-renderer.js';
import { WatchSession } from '../watch/session.js';
import { resolveTarget } from './push-target.js';

// What watch-store, watch-exec and daemon run share: their options and the session's start and end.

export interface WatchOptions extends PushOptions {
  narinfoBatchSize: number;
  narinfoBatchTimeout: number;
}

/** A watch session for `cache` with the push options of the command line. */
export async function openWatchSession(ctx: Context, store: NixStore, cache: string, options: WatchOptions, signal: AbortSignal): Promise<WatchSession> {
  const settings = await loadSettings(ctx);
  const target = await resolveTarget(ctx, settings, parseCacheTarget(cache), cache, options);
  return new WatchSession({
    store,
    target,
    jobs: options.jobs,
    omitDeriver: options.omitDeriver,
    events: watchRenderer(ctx.stderr, ctx.verbose),
    signal,
    pathRetry: pathRetryPolicy(ctx.env),
    batchSize: options.narinfoBatchSize,
    batchTimeoutMs: options.narinfoBatchTimeout * 1000,
  });
}

/**
 * Waits for the queue to empty, saying every second how much is left (spec §8), then reports.
 * Exit 1 when a path could not be pushed: a CI job should not go green with a half-filled cache.
 */
export async function finishSession(ctx: Context, session: WatchSession): Promise<number> {
  const ticker = setInterval(() => {
    const { pushing, queued } = session.status();
    ctx.stderr.write(`Waiting to finish: ${pushing} pushing, ${queued} in queue\n`);
  }, 1000);
  try {
    const { failed } = await session.finish();
    if (failed > 0) {
      ctx.stderr.write(`Done, but ${failed} path${failed === 1 ? '' : 's'} could not be pushed (see above).\n`);
      return 1;
    }
    ctx.stderr.write('Done.\n');
    return 0;
  } finally {
    clearInterval(ticker);
  }
}
