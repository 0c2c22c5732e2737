import { dirname, isAbsolute, join, resolve } from 'node:path';
import { apiFor } from '../api/for-settings.js';
import { loadSettings, NO_TOKEN_HINT, type Settings } from '../config/settings.js';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import { parseCacheTarget } from '../nix/cache-name.js';
import { checkNixVersion, detectEnvironment } from './detect.js';
import { localCachePublicKey } from './local-cache.js';
import { chooseMode, untrustedError, type InstallMode, type RequestedMode } from './mode.js';
import { netrcMachineFor, upsertNetrcEntry } from './netrc.js';
import { addCacheToNixConf, externalSettings } from './nixconf-edit.js';
import { lastSetting, readConfTree, type ConfSetting } from './nixconf-tree.js';
import { nixosInstructions, writeNixosFiles } from './nixos.js';
import { readTextFile, usePaths, type UsePaths, type UseSystem } from './system.js';
import { checkWritable, writeTarget } from './write-target.js';

export interface UseArgs {
  cache: string;
  mode?: RequestedMode;
  nixosFolder: string;
  outputDirectory?: string;
}

/** What `use` needs to know about a cache, from the API or from a local directory. */
export interface ResolvedCache {
  name: string;
  uri: string;
  publicKeys: string[];
  isPublic: boolean;
}

/** `cachix use CACHE` (spec §7): fetch the cache, decide the mode, write the configuration. */
export async function useCache(ctx: Context, args: UseArgs, system: UseSystem): Promise<number> {
  const settings = await loadSettings(ctx);
  const cache = await resolveCache(ctx, settings, args.cache);
  await checkNixVersion(system);
  const facts = await detectEnvironment(system, ctx.env);
  const mode = chooseMode(facts, { mode: args.mode, outputDirectory: args.outputDirectory });
  const refusal = untrustedError(mode, facts.user);
  if (refusal) throw refusal;

  const paths = usePaths(system, ctx.env);
  const storeDirs = [...new Set([paths.storeDir, '/nix/store'])];
  const token = cache.isPublic ? undefined : requireReadToken(settings, cache.name);

  if (mode.kind === 'nixos') {
    if (token !== undefined) await checkWritable(paths.globalNetrc, storeDirs);
    const files = await writeNixosFiles(args.nixosFolder, cache.name, cache.uri, cache.publicKeys, storeDirs);
    if (token !== undefined) await writeNetrc(ctx, paths.globalNetrc, cache.uri, token);
    ctx.stdout.write(nixosInstructions(args.nixosFolder, files));
    return 0;
  }

  const target = nixConfPath(mode, paths);
  // In user mode Nix reads the global file first; the user file's `substituters` replaces
  // what the global one set, so those entries are carried into it.
  const globalTree = mode.kind === 'user-nixconf' ? await readConfTree(paths.globalNixConf, readTextFile) : [];
  const targetTree = await readConfTree(target, readTextFile);
  const before = (await readTextFile(target)) ?? '';

  let netrcPath: string | undefined;
  let writeNetrcSetting = false;
  if (token !== undefined) {
    // A netrc-file already set anywhere is respected rather than overwritten (cachix#169).
    const existing = existingNetrcFile([...globalTree, ...targetTree]);
    netrcPath = existing ?? join(dirname(target), 'netrc');
    writeNetrcSetting = existing === undefined && mode.kind === 'user-nixconf';
  }

  const after = addCacheToNixConf(before, cache, {
    external: externalSettings(globalTree, targetTree),
    netrcFile: writeNetrcSetting ? netrcPath : undefined,
  });

  // Check every target before writing any, so a refusal leaves everything as it was.
  if (after !== before) await checkWritable(target, storeDirs);
  if (netrcPath !== undefined) await checkWritable(netrcPath, storeDirs);
  if (netrcPath !== undefined && token !== undefined) await writeNetrc(ctx, netrcPath, cache.uri, token);
  if (after !== before) await writeTarget(target, after);
  ctx.stdout.write(`Configured ${cache.uri} binary cache in ${target}\n`);
  return 0;
}

async function resolveCache(ctx: Context, settings: Settings, arg: string): Promise<ResolvedCache> {
  const target = parseCacheTarget(arg);
  if (target.kind === 'local') {
    const key = await localCachePublicKey(settings.config, target.url, target.dir, readTextFile);
    return { name: target.url, uri: target.url, publicKeys: [key], isPublic: true };
  }
  const api = await apiFor(ctx, settings);
  try {
    const cache = await api.getCache(target.name);
    return { name: cache.name, uri: cache.uri, publicKeys: cache.publicSigningKeys, isPublic: cache.isPublic };
  } finally {
    await api.close();
  }
}

function requireReadToken(settings: Settings, name: string): string {
  if (settings.authToken === undefined || settings.authToken === '') {
    throw new CachixError(`cache ${name} is private: reading it needs an auth token`, { hint: NO_TOKEN_HINT });
  }
  return settings.authToken;
}

function nixConfPath(mode: InstallMode, paths: UsePaths): string {
  switch (mode.kind) {
    case 'custom':
      return join(resolve(mode.directory), 'nix.conf');
    case 'root-nixconf':
      return paths.globalNixConf;
    case 'user-nixconf':
      return paths.userNixConf;
    default:
      throw new Error(`no nix.conf for mode ${mode.kind}`);
  }
}

/** The netrc file Nix will read, when a nix.conf sets one (relative paths are taken from that file's folder). */
function existingNetrcFile(settings: readonly ConfSetting[]): string | undefined {
  const setting = lastSetting(settings, 'netrc-file');
  const value = setting?.values.join(' ');
  if (!setting || value === undefined || value === '') return undefined;
  return isAbsolute(value) ? value : resolve(dirname(setting.file), value);
}

async function writeNetrc(ctx: Context, path: string, uri: string, token: string): Promise<void> {
  const before = (await readTextFile(path)) ?? '';
  await writeTarget(path, upsertNetrcEntry(before, netrcMachineFor(uri), token, path), 0o600);
  ctx.stderr.write(`Configured private read access credentials in ${path}\n`);
}
