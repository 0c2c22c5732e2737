import type { PushOptions } from '../cli.js';
import { DEFAULTS } from '../cli.js';
import { findSigningKey, NO_TOKEN_HINT, type Settings } from '../config/settings.js';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import type { CacheTarget } from '../nix/cache-name.js';
import { parseSecretKey } from '../nix/keys.js';
import { compressionFromJson, type Compression } from '../push/compression.js';
import type { PushTarget, Signer } from '../push/destination.js';
import { LocalDestination } from '../push/local-destination.js';
import { signerFor } from '../push/signature.js';
import { registerSecret } from '../util/redact.js';


/** The HTTP client and Cachix destination, loaded lazily: undici alone costs tens of ms of start-up that local caches don't need. */
export function loadCachixModules() {
  return Promise.all([import('../api/for-settings.js'), import('../push/cachix-destination.js')]);
}
export type CachixModules = Awaited<ReturnType<typeof loadCachixModules>>;

/** spec §6.3: signing-key mode if a key exists, else token mode (which asks the cache for its compression). */
export async function resolveTarget(
  ctx: Context,
  settings: Settings,
  cacheTarget: CacheTarget,
  cacheArg: string,
  options: PushOptions,
  modules?: Promise<CachixModules>,
): Promise<PushTarget> {
  const target =
    cacheTarget.kind === 'local'
      ? localTarget(ctx, settings, cacheTarget, options)
      : await cachixTarget(ctx, settings, cacheArg, options, await (modules ?? loadCachixModules()));
  return { ...target, compressionLevel: levelFor(ctx, target.compression, options.compressionLevel) };
}

function signerFromSettings(ctx: Context, settings: Settings, configName: string): Signer | undefined {
  const keyText = findSigningKey(settings, ctx.env, configName);
  if (!keyText) return undefined;
  registerSecret(keyText.text.trim());
  return signerFor(parseSecretKey(keyText.text, keyText.source));
}

type Target = Omit<PushTarget, 'compressionLevel'>;

/** A directory cache: no server, no token; signed when a key for its URL exists. */
function localTarget(ctx: Context, settings: Settings, target: Extract<CacheTarget, { kind: 'local' }>, options: PushOptions): Target {
  const signer = signerFromSettings(ctx, settings, target.url);
  if (!signer) {
    ctx.stderr.write(`Warning: no signing key for ${target.url}; narinfos will be unsigned (run \`cachix generate-keypair ${target.url}\`)\n`);
  }
  return { destination: new LocalDestination(target.dir, target.url), compression: options.compressionMethod ?? 'zstd', signer };
}

async function cachixTarget(ctx: Context, settings: Settings, cache: string, options: PushOptions, [{ apiFor }, { CachixDestination }]: CachixModules): Promise<Target> {
  const signer = signerFromSettings(ctx, settings, cache);
  if (!signer && settings.authToken === undefined) {
    throw new CachixError(`neither an auth token nor a signing key is set for cache ${cache}`, {
      hint: `they are read from $CACHIX_AUTH_TOKEN and $CACHIX_SIGNING_KEY, falling back to ${settings.configPath}; ${NO_TOKEN_HINT}`,
    });
  }
  const api = await apiFor(ctx, settings, { connections: options.jobs * options.numConcurrentChunks + 2 });
  let compression: Compression = options.compressionMethod ?? 'zstd';
  if (!signer) {
    try {
      const info = await api.getCache(cache);
      compression = options.compressionMethod ?? compressionFromJson(info.preferredCompressionMethod);
    } catch (error) {
      await api.close();
      throw error;
    }
  }
  const destination = new CachixDestination(api, cache, {
    chunkSize: options.chunkSize,
    maxChunkSize: DEFAULTS.maxChunkSize,
    numConcurrentChunks: options.numConcurrentChunks,
  });
  return { destination, compression, signer };
}

function levelFor(ctx: Context, compression: Compression, level: number): number {
  if (compression === 'xz' && level > 9) {
    ctx.stderr.write(`Warning: xz has levels 0-9; using 9 instead of ${level}\n`);
    return 9;
  }
  return level;
}
