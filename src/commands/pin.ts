import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { ApiError } from '../api/errors.js';
import { apiFor } from '../api/for-settings.js';
import type { PinCreate, PinKeep } from '../api/types.js';
import { loadSettings, requireAuthToken } from '../config/settings.js';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import { parseCacheTarget } from '../nix/cache-name.js';
import { NixStore } from '../nix/store.js';

export interface PinArgs {
  cache: string;
  pinName: string;
  storePath: string;
  artifacts: string[];
  /** Raw flag values: checked here so every mistake reads as one `cachix:` line. */
  keepDays: string | undefined;
  keepRevisions: string | undefined;
  keepForever: boolean;
}

/**
 * `cachix pin CACHE PIN-NAME STORE-PATH` (spec §8): names a store path already in the cache
 * so that garbage collection keeps it. Checks everything it can locally (flags, token, path,
 * artifacts) before the one request; it never pushes the path.
 */
export async function run(ctx: Context, args: PinArgs): Promise<number> {
  const keep = pinKeep(args);
  const cache = cachixCacheName(args.cache);
  if (args.pinName.trim() === '') throw new CachixError('the pin name is empty');
  const settings = await loadSettings(ctx);
  const token = requireAuthToken(settings);
  const storePath = await validStorePath(new NixStore(), args.storePath);
  for (const artifact of args.artifacts) await requireArtifact(storePath, artifact);

  // Artifacts go out as given (a leading `/` included), as the real client sends them.
  const body: PinCreate = { name: args.pinName, storePath, artifacts: args.artifacts, keep };
  const api = await apiFor(ctx, settings, { token });
  try {
    await api.createPin(cache, body);
  } catch (error) {
    throw withPermissionHint(error);
  } finally {
    await api.close();
  }
  // The real client is silent; one line on stderr confirms without disturbing stdout.
  ctx.stderr.write(`Pinned ${storePath} as ${args.pinName} in ${cache}\n`);
  return 0;
}

/** At most one retention flag, with a positive whole number; none means the cache's default. */
export function pinKeep(flags: Pick<PinArgs, 'keepDays' | 'keepRevisions' | 'keepForever'>): PinKeep | null {
  const given = [
    flags.keepDays !== undefined ? '--keep-days' : undefined,
    flags.keepRevisions !== undefined ? '--keep-revisions' : undefined,
    flags.keepForever ? '--keep-forever' : undefined,
  ].filter((flag): flag is string => flag !== undefined);
  if (given.length > 1) {
    throw new CachixError(`${given.join(' and ')} cannot be used together: give at most one of --keep-days, --keep-revisions, --keep-forever`);
  }
  if (flags.keepDays !== undefined) return { tag: 'Days', contents: positiveCount('--keep-days', flags.keepDays) };
  if (flags.keepRevisions !== undefined) return { tag: 'Revisions', contents: positiveCount('--keep-revisions', flags.keepRevisions) };
  return flags.keepForever ? { tag: 'Forever' } : null;
}

function positiveCount(flag: string, value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || n < 1 || !Number.isSafeInteger(n)) {
    throw new CachixError(`${flag} must be a positive whole number, got "${value}"`);
  }
  return n;
}

function cachixCacheName(arg: string): string {
  const target = parseCacheTarget(arg);
  if (target.kind === 'local') {
    // Pins are kept by the Cachix server's garbage collector; a directory has none.
    throw new CachixError(`pin works with caches on a Cachix server; ${target.url} is a local directory`);
  }
  return target.name;
}

/** The top-level store path of `input` (symlinks such as ./result followed), which must be valid. */
async function validStorePath(store: NixStore, input: string): Promise<string> {
  let storePath: string;
  try {
    storePath = await store.toStorePath(input);
  } catch (error) {
    throw new CachixError(`cannot pin ${input}: ${(error as Error).message.replace(/^is /, '')}`);
  }
  if ((await store.invalidPaths([storePath])).length > 0) {
    const which = storePath === input ? '' : ` (${storePath})`;
    throw new CachixError(`cannot pin ${input}${which}: not a valid path in the Nix store (not built yet, or garbage-collected)`);
  }
  return storePath;
}

/** spec §8: an artifact is a file inside the store path; one leading `/` is ignored. */
async function requireArtifact(storePath: string, artifact: string): Promise<void> {
  const relative = posix.normalize(artifact.replace(/^\//, ''));
  if (relative === '.' || relative === '') throw new CachixError(`artifact "${artifact}" is empty: name a file inside ${storePath}`);
  if (relative === '..' || relative.startsWith('../')) throw new CachixError(`artifact ${artifact} points outside ${storePath}`);
  const full = `${storePath}/${relative}`;
  let isFile: boolean;
  try {
    isFile = (await stat(full)).isFile();
  } catch {
    throw new CachixError(`artifact ${artifact} does not exist: there is no ${full}`);
  }
  if (!isFile) throw new CachixError(`artifact ${artifact} is not a file: ${full}`);
}

function withPermissionHint(error: unknown): unknown {
  if (error instanceof ApiError && error.status === 403) {
    return new CachixError(error.message, { hint: 'pinning needs a token with Write permission on the cache', cause: error });
  }
  return error;
}
