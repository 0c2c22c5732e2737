/**
 * The deployment log over a websocket (`GET /api/v1/deploy/log/{id}?view=true`, Upgrade):
 * a hand-made server side of RFC 6455, enough for text frames out. Each line goes as
 * `{"line": …, "time": …}`; the client closes after the closing line, and its close is answered.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { callerOf } from '../auth.js';
import type { DeployState } from '../deploy.js';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function handleDeployLogUpgrade(deploy: DeployState, req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => undefined);
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const match = /^\/api\/v1\/deploy\/log\/([^/]+)$/.exec(url.pathname);
  const reject = (status: string): void => {
    socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  };
  if (!match || url.searchParams.get('view') !== 'true') return reject('404 Not Found');
  const token = callerOf(req).token;
  deploy.logViews.push({ id: decodeURIComponent(match[1]!), authorization: req.headers.authorization });
  if (token === undefined || !deploy.tokens.has(token)) return reject('401 Unauthorized');
  const record = deploy.deployments.get(decodeURIComponent(match[1]!));
  if (!record) return reject('404 Not Found');
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') return reject('400 Bad Request');
  const accept = createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  for (const line of record.log) socket.write(textFrame(JSON.stringify({ line, time: new Date().toISOString() })));
  // The client's frames are read and dropped, except its close, which is answered (RFC 6455 §5.5.1).
  socket.on('data', (data: Buffer) => {
    if (data.length > 0 && (data[0]! & 0x0f) === 0x8) socket.end(Buffer.from([0x88, 0x00]));
  });
  socket.on('end', () => socket.end());
}

/** One unmasked, final text frame (server to client). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header =
    payload.length < 126
      ? Buffer.from([0x81, payload.length])
      : payload.length < 65536
        ? Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff])
        : Buffer.concat([Buffer.from([0x81, 127]), bigLength(payload.length)]);
  return Buffer.concat([header, payload]);
}

function bigLength(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
