import { basename, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CachixError } from '../errors.js';

/**
 * What a CACHE argument names: a cache on the Cachix server, or a local binary cache
 * directory given as `file:///abs/dir` or as a path. Local caches are stored in the config
 * (and compared) under their normalised `file://` URL, so every spelling of one directory
 * finds the same key.
 */
export type CacheTarget = { kind: 'cachix'; name: string } | { kind: 'local'; url: string; dir: string };

const MAX_CACHE_NAME_LENGTH = 63;
const CACHE_NAME_RE = /^[a-z0-9][a-z0-9-]*$/;

/** Throws a one-line CachixError unless `name` is a plausible Cachix cache name. */
export function validateCacheName(name: string): string {
  if (name === '') throw new CachixError('the cache name is empty');
  if (name.length > MAX_CACHE_NAME_LENGTH) {
    throw new CachixError(`invalid cache name "${name}": at most ${MAX_CACHE_NAME_LENGTH} characters`);
  }
  if (!CACHE_NAME_RE.test(name)) {
    throw new CachixError(`invalid cache name "${name}": use lowercase letters, digits and dashes, starting with a letter or digit`);
  }
  return name;
}

/** `file:///dir`, `/dir`, `./dir` and `../dir` are local caches; anything else must be a cache name. */
export function parseCacheTarget(arg: string, cwd: string = process.cwd()): CacheTarget {
  if (arg.startsWith('file:')) return localTarget(dirFromFileUrl(arg), arg);
  if (isAbsolute(arg) || arg.startsWith('./') || arg.startsWith('../') || arg === '.' || arg === '..') {
    return localTarget(resolve(cwd, arg), arg);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(arg);
  if (scheme) {
    throw new CachixError(`unsupported cache "${arg}": give a Cachix cache name or a local directory as file:///abs/dir (${scheme[1]}:// is not supported)`);
  }
  return { kind: 'cachix', name: validateCacheName(arg) };
}

function dirFromFileUrl(arg: string): string {
  let url: URL;
  try {
    url = new URL(arg);
  } catch {
    throw new CachixError(`invalid local cache URL "${arg}": expected file:///absolute/dir`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new CachixError(`invalid local cache URL "${arg}": options after "?" or "#" are not supported; give file:///absolute/dir`);
  }
  if (url.host !== '' && url.host !== 'localhost') {
    throw new CachixError(`invalid local cache URL "${arg}": expected file:///absolute/dir (three slashes; no host)`);
  }
  try {
    return fileURLToPath(url);
  } catch (error) {
    throw new CachixError(`invalid local cache URL "${arg}": ${(error as Error).message}`);
  }
}

function localTarget(path: string, arg: string): CacheTarget {
  const dir = resolve(path);
  if (dir === '/') throw new CachixError(`refusing to use the root directory as a local cache ("${arg}")`);
  return { kind: 'local', url: pathToFileURL(dir).href, dir };
}

/** A Nix key name for a local cache: `<dir basename>-1`, restricted to safe characters. */
export function localKeyName(dir: string): string {
  const base = basename(dir).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${base === '' ? 'local' : base}-1`;
}

/** The key under which a target's secret lives in the config's binaryCaches. */
export function configEntryName(target: CacheTarget): string {
  return target.kind === 'cachix' ? target.name : target.url;
}
