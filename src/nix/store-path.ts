import { CachixError } from '../errors.js';

export const DEFAULT_STORE_DIR = '/nix/store';

const HASH_RE = /^[0-9abcdfghijklmnpqrsvwxyz]{32}$/;
const NAME_RE = /^[A-Za-z0-9+\-._?=]+$/;

export interface StorePathParts {
  storeDir: string;
  hash: string;
  name: string;
  /** `<hash>-<name>` */
  baseName: string;
}

/** Splits `/nix/store/<hash>-<name>` (any store dir) into its parts, or returns undefined. */
export function parseStorePath(path: string, storeDir: string = DEFAULT_STORE_DIR): StorePathParts | undefined {
  const prefix = storeDir.endsWith('/') ? storeDir : `${storeDir}/`;
  if (!path.startsWith(prefix)) return undefined;
  const baseName = path.slice(prefix.length);
  if (baseName.includes('/')) return undefined;
  return parseBaseName(baseName, prefix.slice(0, -1));
}

export function parseBaseName(baseName: string, storeDir: string = DEFAULT_STORE_DIR): StorePathParts | undefined {
  const hash = baseName.slice(0, 32);
  const name = baseName.slice(33);
  if (baseName[32] !== '-' || !HASH_RE.test(hash) || name.length === 0 || !NAME_RE.test(name)) return undefined;
  return { storeDir, hash, name, baseName };
}

export function requireStorePath(path: string, storeDir: string = DEFAULT_STORE_DIR): StorePathParts {
  const parts = parseStorePath(path, storeDir);
  if (!parts) throw new CachixError(`${path} is not a store path`);
  return parts;
}

export function baseNameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function storeHashOf(path: string): string {
  return baseNameOf(path).slice(0, 32);
}

/**
 * The top-level store path containing `path` (which is already absolute and
 * symlink-resolved): `/nix/store/abc-foo/bin/x` -> `/nix/store/abc-foo`.
 */
export function toplevelStorePath(path: string, storeDir: string = DEFAULT_STORE_DIR): string | undefined {
  const prefix = storeDir.endsWith('/') ? storeDir : `${storeDir}/`;
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length);
  const first = rest.split('/')[0] ?? '';
  return parseBaseName(first, storeDir) ? prefix + first : undefined;
}
