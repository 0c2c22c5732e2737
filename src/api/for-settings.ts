import type { Settings } from '../config/settings.js';
import { httpRetryPolicy } from '../config/tuning.js';
import type { Context } from '../context.js';
import { CachixApi } from './client.js';

/**
 * The one way commands build an API client: host and token from the resolved settings,
 * retry timings from the environment (CACHIX_RETRY_SCALE).
 */
export function apiFor(ctx: Context, settings: Settings, options: { token?: string | undefined; connections?: number } = {}): CachixApi {
  return new CachixApi({
    host: settings.hostname,
    token: 'token' in options ? options.token : settings.authToken,
    retry: httpRetryPolicy(ctx.env),
    ...(options.connections === undefined ? {} : { connections: options.connections }),
  });
}
