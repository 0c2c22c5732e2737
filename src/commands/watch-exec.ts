import { spawn } from 'node:child_process';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import { DaemonServer } from '../daemon/server.js';
import { NixStore } from '../nix/store.js';
import { detectEnvironment } from '../use/detect.js';
import { realSystem } from '../use/system.js';
import { abortOnSignals } from '../util/interrupt.js';
import { stopOnSignals } from '../util/stop-signals.js';
import { writeBuildHook, type BuildHook } from '../watch/build-hook.js';
import type { WatchSession } from '../watch/session.js';
import { watchStore } from '../watch/store-watcher.js';
import { finishSession, openWatchSession, type WatchOptions } from './watch-common.js';

export interface WatchExecArgs {
  cache: string;
  command: string;
  args: string[];
  watchMode: 'auto' | 'store' | 'post-build-hook';
  options: WatchOptions;
}

/** After the command exits, wait this long with no new lock-file event before the last batch (inotify events may still be on their way). */
const QUIET_MS = 150;
const MAX_SETTLE_MS = 2000;

/**
 * Runs the command and pushes what gets built meanwhile (spec §8), then pushes what is queued and
 * exits with the command's exit code — or 1 when the command succeeded but a path could not be
 * pushed. The command keeps its stdin/stdout/stderr; cachix writes only to stderr.
 *
 * post-build-hook mode (auto's choice for a trusted user): Nix runs a hook after each build that
 * hands the outputs to a daemon inside this process, so exactly what the command builds is pushed.
 * store mode: every path registered in the store while the command runs (any process's).
 */
export async function run(ctx: Context, args: WatchExecArgs): Promise<number> {
  const mode = args.watchMode === 'auto' ? await autoMode(ctx) : args.watchMode;
  const controller = new AbortController();
  const store = new NixStore();
  const session = await openWatchSession(ctx, store, args.cache, args.options, controller.signal);
  const exitCode = mode === 'store' ? await runWatchingStore(ctx, args, session, store, controller) : await runWithBuildHook(ctx, args, session, controller);
  // The command is done; a signal now means "stop pushing".
  const release = abortOnSignals(controller);
  const pushCode = await finishSession(ctx, session).finally(release);
  if (controller.signal.aborted) throw controller.signal.reason;
  return exitCode !== 0 ? exitCode : pushCode;
}

async function autoMode(ctx: Context): Promise<'store' | 'post-build-hook'> {
  const trusted = await detectEnvironment(realSystem(ctx.env), ctx.env).then(
    (facts) => facts.isTrusted,
    () => false,
  );
  if (trusted) return 'post-build-hook';
  ctx.stderr.write('Warning: Nix ignores a post-build hook from a user it does not trust; watching the store instead (--watch-mode store)\n');
  return 'store';
}

async function runWatchingStore(ctx: Context, args: WatchExecArgs, session: WatchSession, store: NixStore, controller: AbortController): Promise<number> {
  let lastEvent = 0;
  let watchFailure: Error | undefined;
  let watcher: { close(): void };
  try {
    watcher = watchStore(
      store.storeDir,
      (path) => {
        lastEvent = Date.now();
        session.add([path]);
      },
      (error) => {
        watchFailure = error;
      },
    );
  } catch (error) {
    await session.finish();
    throw error;
  }
  try {
    const exitCode = await runCommand(ctx, args, controller, ctx.env);
    await settle(() => lastEvent);
    if (watchFailure) throw watchFailure;
    return exitCode;
  } catch (error) {
    await session.finish(); // the connections must close
    throw error;
  } finally {
    watcher.close();
  }
}

async function runWithBuildHook(ctx: Context, args: WatchExecArgs, session: WatchSession, controller: AbortController): Promise<number> {
  let hook: BuildHook | undefined;
  let server: DaemonServer | undefined;
  try {
    hook = await writeBuildHook(ctx.env, { node: process.execPath, script: process.argv[1]! });
    server = await DaemonServer.listen({ socketPath: hook.socketPath, cache: args.cache, session });
    // The hook hands each build's outputs over before Nix goes on, so all are in when the command exits.
    return await runCommand(ctx, args, controller, hook.env);
  } catch (error) {
    await session.finish(); // the connections must close
    throw error;
  } finally {
    await server?.close();
    await hook?.remove();
  }
}

/** Runs the user's command with cachix's environment; SIGTERM/SIGINT are passed on to it. */
function runCommand(ctx: Context, args: WatchExecArgs, controller: AbortController, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(args.command, args.args, { stdio: 'inherit', env });
    // A terminal's Ctrl-C reaches the command by itself (same process group); a SIGTERM from CI does not.
    const release = stopOnSignals(controller, (signal) => {
      if (signal === 'SIGTERM') child.kill('SIGTERM');
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      release();
      reject(
        error.code === 'ENOENT'
          ? new CachixError(`cannot run ${args.command}: command not found`, { exitCode: 127 })
          : new CachixError(`cannot run ${args.command}: ${error.message}`, { exitCode: 126 }),
      );
    });
    child.on('exit', (code, signal) => {
      release();
      resolve(code ?? 128 + signalNumber(signal));
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return (signal && numbers[signal]) ?? 1;
}

/** Waits until no lock-file event came for QUIET_MS (at most MAX_SETTLE_MS). */
async function settle(lastEvent: () => number): Promise<void> {
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  while (Date.now() - lastEvent() < QUIET_MS && Date.now() - start < MAX_SETTLE_MS) {
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS / 3));
  }
}
