import type { Dispatcher } from 'undici';
// Loaded with `deploy activate` only: undici's WebSocket brings much of its fetch implementation.
import websocketModule from 'undici/lib/web/websocket/websocket.js';
import { userAgent } from '../version.js';

type WebSocketLike = {
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: (() => void) | null;
  onerror: (() => void) | null;
  close(): void;
};
type WebSocketClass = new (url: string, init: { headers: Record<string, string>; dispatcher?: Dispatcher }) => WebSocketLike;

/** The log says a deployment is over with one of these lines (what the real client watches for too). */
const END_OF_LOG = /^(Successfully activated the deployment|Failed to activate the deployment)/;

/**
 * Streams a deployment's activation log (`/api/v1/deploy/log/{id}?view=true`, JSON messages
 * with a `line`) to `onLine` until its last line or until the server closes. The log is an extra:
 * a connection that fails just ends it, the deployment's status decides the outcome.
 */
export function streamDeployLog(options: { host: string; token: string; deploymentId: string; dispatcher?: Dispatcher; onLine: (line: string) => void }): Promise<void> {
  const { WebSocket } = websocketModule as { WebSocket: WebSocketClass };
  const base = options.host.replace(/\/+$/, '').replace(/^http/, 'ws');
  const url = `${base}/api/v1/deploy/log/${encodeURIComponent(options.deploymentId)}?view=true`;
  return new Promise((resolve) => {
    let socket: WebSocketLike;
    try {
      socket = new WebSocket(url, {
        headers: { authorization: `Bearer ${options.token}`, 'user-agent': userAgent() },
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
    } catch {
      resolve();
      return;
    }
    socket.onmessage = (event) => {
      const line = logLine(event.data);
      if (line === undefined) return;
      options.onLine(line);
      if (END_OF_LOG.test(line)) {
        socket.close();
        resolve(); // the closing handshake is not the user's to wait for
      }
    };
    socket.onclose = () => resolve();
    socket.onerror = () => resolve();
  });
}

function logLine(data: unknown): string | undefined {
  const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : undefined;
  if (text === undefined) return undefined;
  try {
    const message = JSON.parse(text) as { line?: unknown };
    return typeof message.line === 'string' ? message.line : text;
  } catch {
    return text;
  }
}
