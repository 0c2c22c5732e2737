import { resolve } from 'node:path';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import { DaemonClient } from '../daemon/client.js';
import type { PushEventMessage } from '../daemon/protocol.js';
import { DaemonServer } from '../daemon/server.js';
import { daemonSocketPath } from '../daemon/socket-path.js';
import { NixStore } from '../nix/store.js';
import { failedLine, startedLine } from '../ui/messages.js';
import { readAll } from '../util/read-stdin.js';
import { stopOnSignals } from '../util/stop-signals.js';
import type { WatchSession } from '../watch/session.js';
import { finishSession, openWatchSession, type WatchOptions } from './watch-common.js';

export interface DaemonRunArgs {
  cache: string;
  socket: string | undefined;
  /** --no-remote-stop makes this false: ClientStop is refused. */
  remoteStop: boolean;
  options: WatchOptions;
}

/**
 * `daemon run`: pushes what clients send over the socket until SIGINT/SIGTERM or a client's
 * `daemon stop`, then finishes the queue (spec §8). Exit 1 when a path could not be pushed.
 */
export async function run(ctx: Context, args: DaemonRunArgs): Promise<number> {
  const controller = new AbortController();
  const session = await openWatchSession(ctx, new NixStore(), args.cache, args.options, controller.signal);
  const socketPath = daemonSocketPath(ctx.env, args.socket);
  const daemon = await serve(ctx, session, socketPath, args.cache, controller, args.remoteStop);
  ctx.stderr.write(`Cachix daemon for ${args.cache} listening on ${socketPath} ...\n`);
  return daemon.finished;
}

/** Starts the socket server for a session; `finished` settles with the exit code once the queue is done. */
export async function serve(
  ctx: Context,
  session: WatchSession,
  socketPath: string,
  cache: string,
  controller: AbortController,
  remoteStop = true,
): Promise<{ server: DaemonServer; finished: Promise<number> }> {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let finishing: Promise<number> | undefined;
  const finish = (): Promise<number> => (finishing ??= finishSession(ctx, session));
  let server: DaemonServer;
  try {
    server = await DaemonServer.listen({
      socketPath,
      cache,
      session,
      ...(remoteStop
        ? {
            stop: async () => {
              const code = await finish();
              return { exitCode: code, exitMessage: code === 0 ? null : 'some store paths could not be pushed' };
            },
            onStopped: stop,
          }
        : {}),
    });
  } catch (error) {
    await session.finish();
    throw error;
  }
  const release = stopOnSignals(controller, () => {
    ctx.stderr.write('Stopping: pushing what is queued (send the signal again to abort) ...\n');
    stop();
  });
  const finished = (async () => {
    try {
      await stopped;
      const code = await finish();
      await server.close();
      if (controller.signal.aborted) throw controller.signal.reason;
      return code;
    } finally {
      release();
    }
  })();
  return { server, finished };
}

export interface DaemonPushArgs {
  paths: string[];
  socket: string | undefined;
  wait: boolean;
}

/** `daemon push`: hands paths to the daemon; with --wait, reports their push and exits 1 if one failed. */
export async function push(ctx: Context, args: DaemonPushArgs): Promise<number> {
  // Paths from the arguments, else (as the real client since 1.9) whitespace-separated from a
  // stdin that is not a terminal. None at all is no error: a post-build hook's $OUT_PATHS can be
  // empty, and failing there would fail the build.
  const given = args.paths.length > 0 || ctx.stdin.isTTY ? args.paths : (await readAll(ctx.stdin)).split(/\s+/).filter((p) => p !== '');
  if (given.length === 0) return 0;
  // The daemon's working directory is not ours: ./result must mean ours.
  const storePaths = given.map((p) => resolve(p));
  let failed = 0;
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const client = await DaemonClient.connect(daemonSocketPath(ctx.env, args.socket), (message) => {
    if (message.tag === 'DaemonError') {
      ctx.stderr.write(`cachix: the daemon refused the request: ${message.contents.contents}\n`);
      failed++;
      finished();
    } else if (message.tag === 'DaemonPushEvent') {
      const event = message.contents.eventMessage;
      const line = eventLine(event);
      if (line) ctx.stderr.write(`${line}\n`);
      if (event.tag === 'PushStorePathFailed') failed++;
      if (event.tag === 'PushFinished') finished();
    }
  });
  await client.send({ tag: 'ClientPushRequest', contents: { storePaths, subscribeToUpdates: args.wait } });
  if (args.wait) await Promise.race([done, client.closed()]);
  await client.end();
  return failed > 0 ? 1 : 0;
}

function eventLine(event: PushEventMessage): string | undefined {
  switch (event.tag) {
    case 'PushStorePathAttempt': {
      const [path, narSize, { retryCount }] = event.contents;
      return startedLine({ type: 'path-started', path, narSize, attempt: retryCount });
    }
    case 'PushStorePathFailed':
      return failedLine(event.contents[0], event.contents[1]);
    default:
      return undefined;
  }
}

/** `daemon stop`: asks the daemon to finish its queue and exit; exits with the daemon's exit code. */
export async function stop(ctx: Context, args: { socket: string | undefined }): Promise<number> {
  let exit: { exitCode: number; exitMessage: string | null } | undefined;
  let refusal: string | undefined;
  let answered!: () => void;
  const answer = new Promise<void>((r) => (answered = r));
  const client = await DaemonClient.connect(daemonSocketPath(ctx.env, args.socket), (message) => {
    if (message.tag === 'DaemonExit') exit = message.contents;
    if (message.tag === 'DaemonError') {
      refusal = message.contents.contents;
      answered();
    }
  });
  await client.send({ tag: 'ClientStop' });
  // DaemonExit comes once the queue is done, then the daemon closes; a refusal leaves it open.
  await Promise.race([client.closed(), answer]);
  if (refusal !== undefined) {
    await client.end();
    throw new CachixError(`the daemon refused to stop: ${refusal}`);
  }
  if (!exit) throw new CachixError('the daemon closed the connection without saying how it ended');
  if (exit.exitMessage) ctx.stderr.write(`${exit.exitMessage}\n`);
  return exit.exitCode;
}

/** `daemon doctor`: does a daemon answer on the socket, and how busy is it (ClientPing, ClientDiagnosticsRequest)? */
export async function doctor(ctx: Context, args: { socket: string | undefined }): Promise<number> {
  const socketPath = daemonSocketPath(ctx.env, args.socket);
  let pong = false;
  let diagnostics: { cache: string; pushing: number; queued: number } | undefined;
  let answered!: () => void;
  const done = new Promise<void>((r) => (answered = r));
  const client = await DaemonClient.connect(socketPath, (message) => {
    if (message.tag === 'DaemonPong') pong = true;
    if (message.tag === 'DaemonDiagnosticsResult') {
      diagnostics = message.contents;
      answered();
    }
  }).catch((error: unknown) => {
    ctx.stdout.write(`  ✗ ${(error as Error).message}\n`);
    return undefined;
  });
  if (!client) return 1;
  await client.send({ tag: 'ClientPing' });
  await client.send({ tag: 'ClientDiagnosticsRequest' });
  const timeout = new Promise<void>((r) => setTimeout(r, 5000).unref());
  await Promise.race([done, client.closed(), timeout]);
  await client.end();
  if (!pong || !diagnostics) {
    ctx.stdout.write(`  ✗ the daemon on ${socketPath} did not answer\n`);
    return 1;
  }
  ctx.stdout.write(`  ✓ a daemon answers on ${socketPath}\n  ✓ it pushes to ${diagnostics.cache}: ${diagnostics.pushing} pushing, ${diagnostics.queued} in queue\n`);
  return 0;
}
