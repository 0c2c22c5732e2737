import type { Dispatcher } from 'undici';
// Deep imports of the two pieces the client uses: undici's index also loads fetch, WebSocket,
// cookies and caches (~45 ms of start-up for every command that talks to a server). The bundler
// inlines these files, so a future undici that moves them fails the build, not a user's push.
import AgentModule from 'undici/lib/dispatcher/agent.js';
import requestModule from 'undici/lib/api/api-request.js';

type AgentClass = new (options: { connections?: number; keepAliveTimeout?: number; pipelining?: number }) => Dispatcher;
type RequestFn = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

export const Agent = AgentModule as AgentClass;
const requestOn = requestModule as RequestFn;

/** `request(url, options)` on a given dispatcher, as undici's top-level helper does. */
export function request(dispatcher: Dispatcher, url: string, options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>): Promise<Dispatcher.ResponseData> {
  const parsed = new URL(url);
  return requestOn.call(dispatcher, { ...options, origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` } as Dispatcher.RequestOptions);
}
