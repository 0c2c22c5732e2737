/**
 * Every cache's Nix-facing listener gets its own loopback address (127.0.0.2, 127.0.0.3, …):
 * Linux routes all of 127/8 to `lo`, and netrc entries match by host only, so distinct
 * addresses keep per-cache credentials apart, as distinct `{name}.cachix.org` hosts do.
 */
import { createServer, type Server } from 'node:http';

let next = 2;

function addressFor(index: number): string {
  // 127.0.0.2 … 127.0.0.254, then 127.0.1.1 … — skipping .0 and .255 in the last octet.
  const perBlock = 254;
  const block = Math.floor((index - 1) / perBlock);
  const host = ((index - 1) % perBlock) + 1;
  return `127.0.${block % 256}.${host}`;
}

/** Listens on a fresh loopback address (random port); falls back to 127.0.0.1 if that fails. */
export async function listenOnFreshLoopback(server: Server): Promise<{ host: string; port: number }> {
  const host = addressFor(next++);
  try {
    return await listen(server, host);
  } catch {
    return listen(server, '127.0.0.1');
  }
}

export function listen(server: Server, host: string): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(0, host, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no TCP address'));
      resolve({ host, port: address.port });
    });
  });
}

/** Whether binding to a non-127.0.0.1 loopback address works here (used by the stand-in's own test). */
export async function loopbackAliasesWork(): Promise<boolean> {
  const server = createServer();
  try {
    await listen(server, '127.0.0.2');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}
