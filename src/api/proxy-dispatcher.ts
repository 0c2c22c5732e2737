import type { Dispatcher } from 'undici';
// Bundled in its own chunk and loaded only when a proxy is configured (see for-settings.ts).
import connectApi from 'undici/lib/api/api-connect.js';
import DispatcherModule from 'undici/lib/dispatcher/dispatcher.js';
import EnvHttpProxyAgentModule from 'undici/lib/dispatcher/env-http-proxy-agent.js';
import type { ProxySettings } from './proxy.js';

// The proxy agent opens its tunnels with `client.connect()`, one of the methods undici's index
// puts on every dispatcher; the client loads undici's parts without that index (undici-core.ts).
const prototype = (DispatcherModule as { prototype: Record<string, unknown> }).prototype;
prototype.connect ??= connectApi;

type EnvHttpProxyAgentClass = new (options: {
  connections?: number;
  keepAliveTimeout?: number;
  pipelining?: number;
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}) => Dispatcher;

/**
 * undici's agent that sends each request through HTTP(S)_PROXY unless NO_PROXY matches its host.
 * Requests are tunnelled with CONNECT, so upload URLs and TLS stay end to end.
 */
export function proxyDispatcher(proxy: ProxySettings, options: { connections: number; keepAliveTimeout: number }): Dispatcher {
  const Agent = EnvHttpProxyAgentModule as EnvHttpProxyAgentClass;
  return new Agent({
    ...options,
    pipelining: 1,
    // Empty strings, not undefined: undici would otherwise fall back to reading process.env itself.
    httpProxy: proxy.httpProxy ?? '',
    httpsProxy: proxy.httpsProxy ?? '',
    noProxy: proxy.noProxy ?? '',
  });
}
