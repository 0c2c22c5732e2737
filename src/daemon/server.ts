import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { PushEvent } from '../push/events.js';
import { describeReason } from '../ui/messages.js';
import type { WatchSession } from '../watch/session.js';
import { decodeClientMessage, encode, lineReader, type DaemonMessage, type PushEventMessage } from './protocol.js';
import { listenUnix } from './unix-socket.js';

export interface DaemonServerOptions {
  socketPath: string;
  cache: string;
  session: WatchSession;
  /**
   * ClientStop: finish the queue; what it resolves with goes back to the client as DaemonExit,
   * then `onStopped` is called. Without it (watch-exec's own daemon, or --no-remote-stop) ClientStop is refused.
   */
  stop?: () => Promise<{ exitCode: number; exitMessage: string | null }>;
  onStopped?: () => void;
}

/**
 * The daemon's socket side (spec §8): push requests go into the watch session (queued, or
 * pushed at once for a client that subscribes and then gets that push's events), ClientStop
 * finishes the queue and answers with the exit code, ClientPing and diagnostics answer at once.
 */
export class DaemonServer {
  private stopping = false;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly options: DaemonServerOptions,
  ) {}

  static async listen(options: DaemonServerOptions): Promise<DaemonServer> {
    let daemon: DaemonServer | undefined;
    const server = createServer((socket) => daemon!.accept(socket));
    daemon = new DaemonServer(server, options);
    await listenUnix(server, options.socketPath);
    return daemon;
  }

  /** Stops accepting connections, lets clients read what was sent to them (1 s at most), removes the socket file. */
  async close(): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.end();
    const timer = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, 1000);
    await closed;
    clearTimeout(timer);
    await unlink(this.options.socketPath).catch(() => undefined);
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined); // a client that goes away is not the daemon's problem
    const send = (message: DaemonMessage): void => {
      if (!socket.destroyed) socket.write(encode(message));
    };
    socket.on(
      'data',
      lineReader((line) => {
        // A request that fails is this client's answer, never the daemon's end.
        this.handle(line, send, socket).catch((error: unknown) => send(unsupported(describeReason(error))));
      }),
    );
  }

  private async handle(line: string, send: (m: DaemonMessage) => void, socket: Socket): Promise<void> {
    const message = decodeClientMessage(line);
    if ('error' in message) {
      if (message.kind === 'malformed') return; // the real daemon logs and ignores it
      return send(unsupported(message.error));
    }
    switch (message.tag) {
      case 'ClientPing':
        return send({ tag: 'DaemonPong' });
      case 'ClientDiagnosticsRequest':
        return send({ tag: 'DaemonDiagnosticsResult', contents: { cache: this.options.cache, ...this.options.session.status() } });
      case 'ClientPushRequest': {
        if (this.stopping) return send(unsupported('the daemon is stopping and takes no more paths'));
        const { storePaths, subscribeToUpdates } = message.contents;
        if (!subscribeToUpdates) return this.options.session.add(storePaths);
        const pushId = randomUUID();
        const emit = (eventMessage: PushEventMessage): void =>
          send({ tag: 'DaemonPushEvent', contents: { eventTimestamp: new Date().toISOString(), eventPushId: pushId, eventMessage } });
        emit({ tag: 'PushStarted' });
        await this.options.session.pushNow(storePaths, (event) => {
          const translated = translate(event);
          if (translated) emit(translated);
        });
        return emit({ tag: 'PushFinished' });
      }
      case 'ClientStop': {
        if (!this.options.stop) return send(unsupported('this daemon does not take stop requests (watch-exec\'s own, or run with --no-remote-stop): it stops on SIGINT/SIGTERM or when its command exits'));
        this.stopping = true;
        const exit = await this.options.stop();
        send({ tag: 'DaemonExit', contents: exit });
        socket.end(() => this.options.onStopped?.());
        return;
      }
    }
  }
}

/** The protocol's only error answer (PROTOCOL.md: UnsupportedCommand), with what went wrong. */
function unsupported(text: string): DaemonMessage {
  return { tag: 'DaemonError', contents: { tag: 'UnsupportedCommand', contents: text } };
}

/** Engine events as the protocol's push events. */
function translate(event: PushEvent): PushEventMessage | undefined {
  switch (event.type) {
    case 'path-started':
      return { tag: 'PushStorePathAttempt', contents: [event.path, event.narSize, { retryCount: event.attempt }] };
    case 'path-progress':
      return { tag: 'PushStorePathProgress', contents: [event.path, event.bytes, event.narSize] };
    case 'path-done':
      return { tag: 'PushStorePathDone', contents: [event.path] };
    case 'path-failed':
      return { tag: 'PushStorePathFailed', contents: [event.path, describeReason(event.error)] };
    case 'input-skipped':
      // The protocol has no "invalid" event: a path that cannot be pushed failed.
      return { tag: 'PushStorePathFailed', contents: [event.input, event.reason] };
    case 'batch-failed':
      return { tag: 'PushStorePathFailed', contents: [event.paths.join(' '), describeReason(event.error)] };
    default:
      return undefined;
  }
}
