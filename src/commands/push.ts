import type { PushOptions } from '../cli.js';
import { DEFAULTS } from '../cli.js';
import { findSigningKey, loadSettings, NO_TOKEN_HINT, type Settings } from '../config/settings.js';
import { pathRetryPolicy } from '../config/tuning.js';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import { parseSecretKey } from '../nix/keys.js';
import { parseCacheTarget, type CacheTarget } from '../nix/cache-name.js';
import { NixStore } from '../nix/store.js';
import { compressionFromJson, type Compression } from '../push/compression.js';
import type { Destination, Signer } from '../push/destination.js';
import { LocalDestination } from '../push/local-destination.js';
import { push } from '../push/engine.js';
import type { PushEventSink } from '../push/events.js';
import { signerFor } from '../push/signature.js';
import { plainRenderer } from '../ui/plain-renderer.js';
import { abortOnSignals } from '../util/interrupt.js';
import { readAll } from '../util/read-stdin.js';
import { registerSecret } from '../util/redact.js';

export interface PushArgs {
  cache: string;
  paths: string[];
  options: PushOptions;
}

export async function run(ctx: Context, args: PushArgs): Promise<number> {
  const cacheTarget = parseCacheTarget(args.cache);
  // Start loading the HTTP client now, while the config and the inputs are being read.
  const cachixModules = cacheTarget.kind === 'cachix' ? loadCachixModules() : undefined;
  cachixModules?.catch(() => undefined);
  const inputs = await readInputs(ctx, args.paths);
  if (inputs.length === 0) {
    ctx.stderr.write('Nothing to push.\n');
    return 0;
  }
  // Ask Nix for the closure now: its ~20 ms run overlaps reading the config and loading modules.
  const store = new NixStore();
  const planned = store.resolveWithClosure(inputs);
  planned.catch(() => undefined);
  const settings = await loadSettings(ctx);
  const target =
    cacheTarget.kind === 'local' ? localTarget(ctx, settings, cacheTarget, args) : await cachixTarget(ctx, settings, args, await cachixModules!);
  const renderer = await makeRenderer(ctx);
  const controller = new AbortController();
  const releaseSignals = abortOnSignals(controller);
  try {
    await push({
      store,
      planned,
      destination: target.destination,
      inputs,
      compression: target.compression,
      compressionLevel: levelFor(ctx, target.compression, args.options.compressionLevel),
      jobs: args.options.jobs,
      omitDeriver: args.options.omitDeriver,
      signer: target.signer,
      events: renderer.render,
      signal: controller.signal,
      pathRetry: pathRetryPolicy(ctx.env),
    });
  } finally {
    renderer.stop();
    releaseSignals();
    await target.destination.close();
  }
  return 0;
}

/** spec §6.2: arguments win; else whitespace-separated paths from a non-terminal stdin. */
async function readInputs(ctx: Context, paths: string[]): Promise<string[]> {
  if (paths.length > 0) return paths;
  if (ctx.stdin.isTTY) {
    throw new CachixError('no store paths given', { hint: 'pass them as arguments or pipe them in, e.g. `nix-build | cachix push mycache`' });
  }
  return (await readAll(ctx.stdin)).split(/\s+/).filter((p) => p !== '');
}

interface Target {
  destination: Destination;
  compression: Compression;
  signer: Signer | undefined;
}

function signerFromSettings(ctx: Context, settings: Settings, configName: string): Signer | undefined {
  const keyText = findSigningKey(settings, ctx.env, configName);
  if (!keyText) return undefined;
  registerSecret(keyText.text.trim());
  return signerFor(parseSecretKey(keyText.text, keyText.source));
}

/** A directory cache: no server, no token; signed when a key for its URL exists. */
function localTarget(ctx: Context, settings: Settings, target: Extract<CacheTarget, { kind: 'local' }>, args: PushArgs): Target {
  const signer = signerFromSettings(ctx, settings, target.url);
  if (!signer) {
    ctx.stderr.write(`Warning: no signing key for ${target.url}; narinfos will be unsigned (run \`cachix generate-keypair ${target.url}\`)\n`);
  }
  return { destination: new LocalDestination(target.dir, target.url), compression: args.options.compressionMethod ?? 'zstd', signer };
}

/** spec §6.3: signing-key mode if a key exists, else token mode (which asks the cache for its compression). */
// Loaded lazily, not at the top: undici alone costs tens of ms of start-up that local caches don't need.
function loadCachixModules() {
  return Promise.all([import('../api/for-settings.js'), import('../push/cachix-destination.js')]);
}

async function cachixTarget(
  ctx: Context,
  settings: Settings,
  args: PushArgs,
  [{ apiFor }, { CachixDestination }]: Awaited<ReturnType<typeof loadCachixModules>>,
): Promise<Target> {
  const signer = signerFromSettings(ctx, settings, args.cache);
  if (!signer && settings.authToken === undefined) {
    throw new CachixError(`neither an auth token nor a signing key is set for cache ${args.cache}`, {
      hint: `they are read from $CACHIX_AUTH_TOKEN and $CACHIX_SIGNING_KEY, falling back to ${settings.configPath}; ${NO_TOKEN_HINT}`,
    });
  }
  const { options } = args;
  const api = apiFor(ctx, settings, { connections: options.jobs * options.numConcurrentChunks + 2 });
  let compression: Compression = options.compressionMethod ?? 'zstd';
  if (!signer) {
    try {
      const cache = await api.getCache(args.cache);
      compression = options.compressionMethod ?? compressionFromJson(cache.preferredCompressionMethod);
    } catch (error) {
      await api.close();
      throw error;
    }
  }
  const destination = new CachixDestination(api, args.cache, {
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

async function makeRenderer(ctx: Context): Promise<{ render: PushEventSink; stop: () => void }> {
  // A terminal that reports no size (0x0 under `script` or `docker -t`) gets plain lines:
  // a live display cannot lay itself out there.
  if (ctx.stderr.isTTY && ctx.env.CI !== 'true' && (ctx.stderr.columns ?? 0) > 0 && (ctx.stderr.rows ?? 0) > 0) {
    const { ttyRenderer } = await import('../ui/tty-renderer.js');
    return ttyRenderer(ctx.stderr);
  }
  return { render: plainRenderer(ctx.stderr), stop: () => undefined };
}
