import { ApiError } from '../api/errors.js';
import { apiFor } from '../api/for-settings.js';
import { readConfigFile, writeConfigFile } from '../config/file.js';
import { loadSettings, requireAuthToken } from '../config/settings.js';
import type { CachixConfig } from '../config/types.js';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import { localKeyName, parseCacheTarget, type CacheTarget } from '../nix/cache-name.js';
import { formatPublicKeyNix, formatSecretKeyBare, formatSecretKeyNix, generateSecretKey } from '../nix/keys.js';

/**
 * `cachix generate-keypair CACHE` (spec §4): make an ed25519 pair, register the public half
 * with the server, and only once the server accepted it keep the secret in the config.
 * For a local cache (`file:///dir`) there is no server: the key is named `<dir>-1` and
 * stored in Nix form so that `use` and `push` can recover the name.
 */
export async function run(ctx: Context, args: { cache: string }): Promise<number> {
  const target = parseCacheTarget(args.cache);
  if (target.kind === 'local') return generateLocal(ctx, target);

  const settings = await loadSettings(ctx);
  const token = requireAuthToken(settings);
  const key = generateSecretKey();
  const api = await apiFor(ctx, settings, { token });
  try {
    await api.addSigningKey(target.name, key.publicKey.toString('base64'));
  } catch (error) {
    throw describeRefusal(error, `the server refused the new signing key for cache ${target.name}`);
  } finally {
    await api.close();
  }
  const secret = formatSecretKeyBare(key);
  // settings.config is the file as loaded: a token from CACHIX_AUTH_TOKEN is not persisted.
  await saveSecret(ctx, settings.config, target.name, secret);
  ctx.stdout.write(cachixGuidance(target.name, secret));
  return 0;
}

async function generateLocal(ctx: Context, target: Extract<CacheTarget, { kind: 'local' }>): Promise<number> {
  const config = await readConfigFile(ctx.configPath);
  if (config.binaryCaches.some((entry) => entry.name === target.url)) {
    // No server guards a local cache, and the config holds the only copy of its secret.
    throw new CachixError(`${ctx.configPath} already holds a signing key for ${target.url}`, {
      hint: 'remove that binaryCaches entry first if you really want to replace the key; paths signed with it would no longer verify',
    });
  }
  const keyName = localKeyName(target.dir);
  const key = generateSecretKey(keyName);
  const secret = formatSecretKeyNix(key, keyName);
  await saveSecret(ctx, config, target.url, secret);
  ctx.stdout.write(localGuidance(target.url, formatPublicKeyNix(key.publicKey, keyName), secret));
  return 0;
}

/**
 * Writes the secret under `name`, replacing an existing entry of that name in place (and
 * dropping later duplicates) rather than appending a second one. If the write fails the
 * secret would be lost while the server already trusts its public half, so it is shown.
 */
export async function saveSecret(ctx: Context, config: CachixConfig, name: string, secret: string): Promise<void> {
  let line: string;
  try {
    line = await writeConfigFile(ctx.configPath, withSecretKey(config, name, secret));
  } catch (error) {
    ctx.stderr.write(`The key could not be saved; keep this secret signing key for ${name} safe, it is the only copy:\n    ${secret}\n`);
    throw error;
  }
  ctx.stdout.write(`${line}\n`);
}

export function withSecretKey(config: CachixConfig, name: string, secretKey: string): CachixConfig {
  const entry = { name, secretKey };
  const first = config.binaryCaches.findIndex((c) => c.name === name);
  const binaryCaches =
    first < 0
      ? [...config.binaryCaches, entry]
      : config.binaryCaches.flatMap((c, i) => (i === first ? [entry] : c.name === name ? [] : [c]));
  return { ...config, binaryCaches };
}

/** One line for a failed API call: the server's own words and the HTTP status. */
export function describeRefusal(error: unknown, what: string): unknown {
  if (!(error instanceof ApiError) || error.status === undefined) return error;
  const said = error.body?.trim().split('\n')[0]?.trim();
  const hint = error.status === 401 || error.status === 403 ? 'check that your auth token is valid and may administer this cache' : undefined;
  return new CachixError(`${what} (HTTP ${error.status})${said ? `: ${said}` : ''}`, { hint, cause: error });
}

export function cachixGuidance(name: string, secret: string): string {
  return `
The secret signing key was saved in the file above. To populate your binary cache:

    $ nix-build | cachix push ${name}

Or, to push from another machine or from CI, give it the secret key through the environment:

    $ export CACHIX_SIGNING_KEY=${secret}
    $ nix-build | cachix push ${name}

To make Nix substitute from the cache:

    $ cachix use ${name}

IMPORTANT: make a backup of the signing key: the file above holds its only copy.
`;
}

function localGuidance(url: string, publicKey: string, secret: string): string {
  return `
The secret signing key of the local cache ${url} was saved in the file above.
Its public key, for everyone who substitutes from the cache:

    ${publicKey}

To push store paths (and their closures) into the cache:

    $ cachix push ${url} ./result

To make Nix substitute from it:

    $ cachix use ${url}

or by hand, in nix.conf:

    extra-substituters = ${url}
    extra-trusted-public-keys = ${publicKey}

To push from another machine or from CI, give it the secret key through the environment:

    $ export CACHIX_SIGNING_KEY=${secret}

IMPORTANT: make a backup of the signing key: the file above holds its only copy.
`;
}
