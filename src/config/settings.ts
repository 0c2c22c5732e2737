import { CachixError } from '../errors.js';
import { registerSecret } from '../util/redact.js';
import type { Context } from '../context.js';
import { readConfigFile } from './file.js';
import type { CachixConfig } from './types.js';

/**
 * Every precedence rule between environment, flags and the config file lives here
 * (spec §1.1, §1.3, §2.3), resolved once per run.
 */
export interface Settings {
  configPath: string;
  config: CachixConfig;
  /**
   * The auth token, or undefined when there is none. `CACHIX_AUTH_TOKEN` wins whenever it
   * is set, even to the empty string (the real client's rule); in the config file an
   * empty `authToken` means "no token".
   */
  authToken: string | undefined;
  /** Where the token came from, for messages. */
  authTokenSource: 'env' | 'config' | undefined;
  /** `--host` > config `hostname` > https://cachix.org, without a trailing slash. */
  hostname: string;
}

export interface SigningKeyText {
  text: string;
  /** Human description of where it came from, used in error messages. */
  source: string;
}

export async function loadSettings(ctx: Context): Promise<Settings> {
  const config = await readConfigFile(ctx.configPath);
  const envToken = ctx.env.CACHIX_AUTH_TOKEN;
  let authToken: string | undefined;
  let authTokenSource: Settings['authTokenSource'];
  if (envToken !== undefined) {
    authToken = envToken;
    authTokenSource = 'env';
  } else if (config.authToken !== '') {
    authToken = config.authToken;
    authTokenSource = 'config';
  }
  // Whatever prints an error later must never show the token, wherever it came from.
  registerSecret(authToken);
  const hostname = normaliseHost(ctx.hostOverride ?? config.hostname, ctx.hostOverride !== undefined ? '--host' : ctx.configPath);
  return { configPath: ctx.configPath, config, authToken, authTokenSource, hostname };
}

/**
 * The signing key for `cacheName`: `CACHIX_SIGNING_KEY` first (an empty value counts as
 * unset, so CI jobs from forks without secrets fall through to token mode), else the
 * last config entry with that name.
 */
export function findSigningKey(settings: Settings, env: NodeJS.ProcessEnv, cacheName: string): SigningKeyText | undefined {
  const fromEnv = env.CACHIX_SIGNING_KEY;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { text: fromEnv, source: 'CACHIX_SIGNING_KEY' };
  const entries = settings.config.binaryCaches.filter((c) => c.name === cacheName);
  const last = entries[entries.length - 1];
  if (last) return { text: last.secretKey, source: `${settings.configPath} (binaryCaches entry "${cacheName}")` };
  return undefined;
}

export function normaliseHost(value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CachixError(`invalid host "${value}" (from ${source}): expected an absolute http(s) URL such as https://cachix.org`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CachixError(`invalid host "${value}" (from ${source}): only http and https are supported`);
  }
  return value.replace(/\/+$/, '');
}

export const NO_TOKEN_HINT =
  'create a token at https://app.cachix.org, then either `export CACHIX_AUTH_TOKEN=<token>` or run `cachix authtoken <token>`';

export function requireAuthToken(settings: Settings): string {
  if (settings.authToken === undefined) {
    throw new CachixError('an auth token is required for this command', { hint: NO_TOKEN_HINT });
  }
  return settings.authToken;
}
