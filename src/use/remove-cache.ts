import { loadSettings } from '../config/settings.js';
import type { CachixConfig } from '../config/types.js';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import { parseCacheTarget } from '../nix/cache-name.js';
import { detectEnvironment } from './detect.js';
import { localCachePublicKey } from './local-cache.js';
import { chooseMode } from './mode.js';
import { removeCacheFromNixConf, type CacheToRemove } from './nixconf-edit.js';
import { readTextFile, usePaths, type UseSystem } from './system.js';
import { checkWritable, writeTarget } from './write-target.js';

/**
 * `cachix remove CACHE` (spec §7.5): no network. The substituter is rebuilt from the
 * configured host (`https://{name}.<host>`), and keys named `{name}.<host>…` go with it.
 */
export async function removeCache(ctx: Context, args: { cache: string }, system: UseSystem): Promise<number> {
  const settings = await loadSettings(ctx);
  const cache = await cacheToRemove(settings.hostname, settings.config, args.cache);
  const facts = await detectEnvironment(system, ctx.env);
  const mode = chooseMode(facts, {});
  const paths = usePaths(system, ctx.env);
  let target: string;
  if (mode.kind === 'root-nixconf') target = paths.globalNixConf;
  else if (mode.kind === 'user-nixconf') target = paths.userNixConf;
  else {
    throw new CachixError('removing binary caches is only supported for nix.conf', {
      hint: mode.kind === 'nixos' ? `delete the cache's file from the cachix/ folder of your NixOS configuration and rebuild` : undefined,
    });
  }

  const before = await readTextFile(target);
  const result = before === undefined ? { text: '', removed: false } : removeCacheFromNixConf(before, cache);
  if (result.removed) {
    await checkWritable(target, [...new Set([paths.storeDir, '/nix/store'])]);
    await writeTarget(target, result.text);
    ctx.stdout.write(`Removed ${cache.uri} binary cache in ${target}\n`);
  } else {
    ctx.stdout.write(`No ${cache.uri} binary cache found in ${target}\n`);
  }
  return 0;
}

async function cacheToRemove(hostname: string, config: CachixConfig, arg: string): Promise<CacheToRemove> {
  const target = parseCacheTarget(arg);
  if (target.kind === 'local') {
    // The key, when still known, goes too; without it only the substituter is removed.
    const key = await localCachePublicKey(config, target.url, target.dir, readTextFile).catch(() => undefined);
    const keyName = key?.slice(0, key.lastIndexOf(':'));
    return { uri: target.url, keyName: (name) => keyName !== undefined && name === keyName };
  }
  const host = new URL(hostname);
  const uri = `${host.protocol}//${target.name}.${host.host}`;
  const prefix = `${target.name}.${host.hostname}`;
  // `{name}.cachix.org-1`, `-2`, … but not `{name}.cachix.org.evil`.
  return { uri, keyName: (name) => name === prefix || name.startsWith(`${prefix}-`) };
}
