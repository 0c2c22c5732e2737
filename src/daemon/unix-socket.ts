import { chmod, mkdir, unlink } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import { dirname } from 'node:path';
import { CachixError } from '../errors.js';

/** sockaddr_un.sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included. */
export const MAX_SOCKET_PATH = process.platform === 'darwin' ? 103 : 107;

/**
 * Listens on a Unix socket only the owner may use. A socket file left by a daemon that died is
 * replaced; one a live daemon answers on is not.
 */
export async function listenUnix(server: Server, path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new CachixError(`the socket path ${path} is longer than the ${MAX_SOCKET_PATH} bytes a Unix socket allows`, {
      hint: 'pass a shorter one with --socket',
    });
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await listenOnce(server, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    if (await answers(path)) throw new CachixError(`a cachix daemon is already listening on ${path}`);
    await unlink(path);
    await listenOnce(server, path);
  }
  await chmod(path, 0o600);
}

function listenOnce(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
