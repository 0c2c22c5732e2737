import type { Dispatcher } from 'undici';
import type { Settings } from '../config/settings.js';
import { httpRetryPolicy } from '../config/tuning.js';
import type { Context } from '../context.js';
import { CachixApi, type CachixApiOptions } from './client.js';
import { proxyFromEnv } from './proxy.js';

/** Connections per origin when the caller has no better number. */
const DEFAULT_CONNECTIONS = 16;

/**
 * The one way commands build an API client: host and token from the resolved settings,
 * retry timings from the environment (CACHIX_RETRY_SCALE), and the proxy of
 * HTTP(S)_PROXY / NO_PROXY, as the real client's http-client honours them.
 */
export async function apiFor(
  ctx: Context,
  settings: Settings,
  options: { token?: string | undefined; connections?: number; retry?: CachixApiOptions['retry'] } = {},
): Promise<CachixApi> {
  const connections = options.connections ?? DEFAULT_CONNECTIONS;
  const dispatcher = await proxiedDispatcher(ctx.env, connections);
  return new CachixApi({
    host: settings.hostname,
    token: 'token' in options ? options.token : settings.authToken,
    retry: options.retry ?? httpRetryPolicy(ctx.env),
    connections,
    ...(dispatcher ? { dispatcher, ownsDispatcher: true } : {}),
  });
}

/** A proxy agent when the environment names a proxy; loaded only then (it is start-up time nobody else should pay). */
async function proxiedDispatcher(env: NodeJS.ProcessEnv, connections: number): Promise<Dispatcher | undefined> {
  const proxy = proxyFromEnv(env);
  if (!proxy) return undefined;
  const { proxyDispatcher } = await import('./proxy-dispatcher.js');
  return proxyDispatcher(proxy, { connections, keepAliveTimeout: 30_000 });
}
