/** The request log tests assert on: one entry per request, in arrival order. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogEntry, RouteKind } from './types.js';

export function startLogEntry(log: LogEntry[], req: IncomingMessage, res: ServerResponse, route: RouteKind, cache?: string): LogEntry {
  const url = req.url ?? '/';
  const entry: LogEntry = {
    method: req.method ?? 'GET',
    url,
    path: url.split('?')[0]!,
    headers: { ...req.headers },
    status: 0,
    route,
    ts: Date.now(),
  };
  if (cache !== undefined) entry.cache = cache;
  log.push(entry);
  res.on('finish', () => (entry.status = res.statusCode));
  res.on('close', () => {
    if (!res.writableFinished) entry.status = -1;
  });
  return entry;
}
