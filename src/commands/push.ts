import type { PushOptions } from '../cli.js';
import { loadSettings } from '../config/settings.js';
import { pathRetryPolicy } from '../config/tuning.js';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import { parseCacheTarget } from '../nix/cache-name.js';
import { NixStore } from '../nix/store.js';
import { push } from '../push/engine.js';
import type { PushEventSink } from '../push/events.js';
import { plainRenderer } from '../ui/plain-renderer.js';
import { abortOnSignals } from '../util/interrupt.js';
import { readAll } from '../util/read-stdin.js';
import { loadCachixModules, resolveTarget } from './push-target.js';

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
  const target = await resolveTarget(ctx, settings, cacheTarget, args.cache, args.options, cachixModules);
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
      compressionLevel: target.compressionLevel,
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

async function makeRenderer(ctx: Context): Promise<{ render: PushEventSink; stop: () => void }> {
  // A terminal that reports no size (0x0 under `script` or `docker -t`) gets plain lines:
  // a live display cannot lay itself out there.
  if (ctx.stderr.isTTY && ctx.env.CI !== 'true' && (ctx.stderr.columns ?? 0) > 0 && (ctx.stderr.rows ?? 0) > 0) {
    const { ttyRenderer } = await import('../ui/tty-renderer.js');
    return ttyRenderer(ctx.stderr);
  }
  return { render: plainRenderer(ctx.stderr), stop: () => undefined };
}
