import { connect, type Socket } from 'node:net';
import { CachixError } from '../errors.js';
import { decodeDaemonMessage, encode, lineReader, type ClientMessage, type DaemonMessage } from './protocol.js';

/** A connection to a running daemon; messages from it arrive through `onMessage`. */
export class DaemonClient {
  private constructor(private readonly socket: Socket) {}

  static connect(path: string, onMessage: (message: DaemonMessage) => void): Promise<DaemonClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('connect', () => {
        socket.off('error', onConnectError);
        resolve(new DaemonClient(socket));
      });
      const onConnectError = (error: NodeJS.ErrnoException): void => {
        reject(
          error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
            ? new CachixError(`no cachix daemon is listening on ${path}`, { hint: 'start one with `cachix daemon run CACHE`, or pass its --socket' })
            : new CachixError(`cannot reach the cachix daemon on ${path}: ${error.message}`),
        );
      };
      socket.once('error', onConnectError);
      socket.on(
        'data',
        lineReader((line) => {
          const message = decodeDaemonMessage(line);
          if (message) onMessage(message);
        }),
      );
    });
  }

  send(message: ClientMessage): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(encode(message), (error) => (error ? reject(error) : resolve())));
  }

  /** Resolves when the daemon closes the connection (or it breaks). */
  closed(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
    });
  }

  /** Sends the end of the stream and waits for the daemon to close its side. */
  async end(): Promise<void> {
    const closed = this.closed();
    this.socket.end();
    await closed;
  }
}
