import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { describeError } from '../errors.js';
import type { PushEvent } from '../push/events.js';
import { redact } from '../util/redact.js';
import type { WatchSession } from '../watch/session.js';
import { decodeClientMessage, encode, lineReader, type DaemonMessage, type PushEventMessage } from './protocol.js';
import { listenUnix } from './unix-socket.js';

export interface DaemonServerOptions {
  socketPath: string;
  cache: string;
  session: WatchSession;
  /**
   * ClientStop: finish the queue; what it resolves with goes back to the client as DaemonExit,
   * then `onStopped` is called. Without it (watch-exec's own daemon) ClientStop is refused.
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
        this.handle(line, send, socket).catch((error: unknown) => send({ tag: 'DaemonError', contents: redact(describeError(error)) }));
      }),
    );
  }

  private async handle(line: string, send: (m: DaemonMessage) => void, socket: Socket): Promise<void> {
    const message = decodeClientMessage(line);
    if ('error' in message) return send({ tag: 'DaemonError', contents: message.error });
    switch (message.tag) {
      case 'ClientPing':
        return send({ tag: 'DaemonPong' });
      case 'ClientDiagnosticsRequest':
        return send({ tag: 'DaemonDiagnosticsResult', contents: { cache: this.options.cache, ...this.options.session.status() } });
      case 'ClientPushRequest': {
        if (this.stopping) return send({ tag: 'DaemonError', contents: 'the daemon is stopping and takes no more paths' });
        const { storePaths, subscribeToUpdates } = message.contents;
        if (!subscribeToUpdates) return this.options.session.add(storePaths);
        const pushId = randomUUID();
        const emit = (eventMessage: PushEventMessage): void =>
          send({ tag: 'DaemonPushEvent', contents: { eventTimestamp: new Date().toISOString(), eventPushId: pushId, eventMessage } });
        emit({ tag: 'PushStarted' });
        const result = await this.options.session.pushNow(storePaths, (event) => {
          const translated = translate(event);
          if (translated) emit(translated);
        });
        return emit({ tag: 'PushFinished', contents: result });
      }
      case 'ClientStop': {
        if (!this.options.stop) return send({ tag: 'DaemonError', contents: 'this daemon belongs to cachix watch-exec and stops when its command exits' });
        this.stopping = true;
        const exit = await this.options.stop();
        send({ tag: 'DaemonExit', contents: exit });
        socket.end(() => this.options.onStopped?.());
        return;
      }
    }
  }
}

/** Engine events as the protocol's push events (plan and progress details stay inside). */
function translate(event: PushEvent): PushEventMessage | undefined {
  switch (event.type) {
    case 'path-started':
      return { tag: 'PushStorePathAttempt', contents: { storePath: event.path, narSize: event.narSize, retryCount: event.attempt } };
    case 'path-done':
      return { tag: 'PushStorePathDone', contents: { storePath: event.path } };
    case 'path-failed':
      return { tag: 'PushStorePathFailed', contents: { storePath: event.path, reason: redact(describeError(event.error)) } };
    case 'input-skipped':
      return { tag: 'PushStorePathInvalid', contents: { storePath: event.input, reason: event.reason } };
    case 'batch-failed':
      return { tag: 'PushStorePathFailed', contents: { storePath: event.paths.join(' '), reason: redact(describeError(event.error)) } };
    default:
      return undefined;
  }
}
