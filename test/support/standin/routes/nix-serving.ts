/**
 * What Nix reads as a substituter, served at the root of a cache's own host
 * (`c.uri`): /nix-cache-info, /<hash>.narinfo, /nar/<file>. Private caches need HTTP Basic
 * whose password is a token with Read access — what Nix sends from a netrc entry.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { callerOf } from '../auth.js';
import type { RequestContext } from '../context.js';
import { HttpError, sendText } from '../http.js';
import type { CacheRecord } from '../store.js';

export async function handleNix(ctx: RequestContext, cache: CacheRecord): Promise<void> {
  const { req, res } = ctx;
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'read-only binary cache');
  if (!cache.isPublic) {
    const basic = /^basic /i.test(req.headers.authorization ?? '');
    const caller = callerOf(req);
    if (!basic || ctx.tokens.permission(caller.token, cache.name) === undefined) {
      throw new HttpError(401, 'private binary cache: authenticate with netrc (Basic, password = token)', {
        'WWW-Authenticate': `Basic realm="${cache.name}"`,
      });
    }
  }
  if (ctx.path === '/nix-cache-info') {
    return sendText(res, 200, 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 41\n');
  }
  const narinfo = /^\/([0-9a-z]{32})\.narinfo$/.exec(ctx.path);
  if (narinfo) {
    const text = ctx.store.narinfoText(cache.name, narinfo[1]!);
    if (text === undefined) throw new HttpError(404, 'not found');
    return sendText(res, 200, text, 'text/x-nix-narinfo');
  }
  const nar = /^\/nar\/([0-9a-f]{64}\.nar\.(?:zst|xz))$/.exec(ctx.path);
  if (nar) {
    const file = ctx.store.narFile(cache, nar[1]!);
    const info = await stat(file).catch(() => undefined);
    if (!info) throw new HttpError(404, 'not found');
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': info.size });
    if (req.method === 'HEAD') return void res.end();
    await pipeline(createReadStream(file), res);
    return;
  }
  throw new HttpError(404, 'not found');
}
