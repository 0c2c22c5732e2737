import type { Context } from '../context.js';
import { NixStore } from '../nix/store.js';
import { stopOnSignals } from '../util/stop-signals.js';
import { watchStore } from '../watch/store-watcher.js';
import { finishSession, openWatchSession, type WatchOptions } from './watch-common.js';

export interface WatchStoreArgs {
  cache: string;
  options: WatchOptions;
}

export async function run(ctx: Context, args: WatchStoreArgs): Promise<number> {
  const controller = new AbortController();
  const store = new NixStore();
  const session = await openWatchSession(ctx, store, args.cache, args.options, controller.signal);
  const dir = store.storeDir;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let watchFailure: Error | undefined;
  let watcher: { close(): void };
  try {
    watcher = watchStore(
      dir,
      (path) => session.add([path]),
      (error) => {
        watchFailure = error;
        stop();
      },
    );
  } catch (error) {
    await session.finish();
    throw error;
  }
  const release = stopOnSignals(controller, () => {
    ctx.stderr.write(`Stopped watching ${dir}; pushing what is queued (send the signal again to abort) ...\n`);
    stop();
  });
  ctx.stderr.write(`Watching ${dir} for new store paths ...\n`);
  try {
    await stopped;
    watcher.close();
    const code = await finishSession(ctx, session);
    if (controller.signal.aborted) throw controller.signal.reason;
    if (watchFailure) throw watchFailure;
    return code;
  } finally {
    release();
  }
}
