import { createRequire } from 'node:module';
import type { Dispatcher } from 'undici';

/**
 * The two pieces of undici the client uses — Agent and the promise `request` API — loaded
 * from undici's own modules rather than its index, which also loads fetch, WebSocket,
 * cookies and caches: ~45 ms of start-up for every command that talks to a server. Should
 * a future undici move these files, the full package is loaded instead (same API).
 */
type AgentClass = new (options: { connections?: number; keepAliveTimeout?: number; pipelining?: number }) => Dispatcher;
type RequestFn = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

const require = createRequire(import.meta.url);

function load(): { Agent: AgentClass; requestOn: RequestFn } {
  try {
    return {
      Agent: require('undici/lib/dispatcher/agent.js') as AgentClass,
      requestOn: require('undici/lib/api/api-request.js') as RequestFn,
    };
  } catch {
    const undici = require('undici') as typeof import('undici');
    return { Agent: undici.Agent as unknown as AgentClass, requestOn: undici.Dispatcher.prototype.request as unknown as RequestFn };
  }
}

export const { Agent, requestOn } = load();

/** `request(url, options)` on a given dispatcher, as undici's top-level helper does. */
export function request(dispatcher: Dispatcher, url: string, options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>): Promise<Dispatcher.ResponseData> {
  const parsed = new URL(url);
  return requestOn.call(dispatcher, { ...options, origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` } as Dispatcher.RequestOptions);
}
