/**
 * Real Nix as the consumer of a binary cache: substitute into a throw-away store (the real
 * /nix/store stays untouched; signature checks apply the same), with a fresh
 * XDG_CACHE_HOME so Nix's narinfo cache never leaks between tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanNixEnv, run, type RunResult } from './run.js';

export interface SubstituteOptions {
  /** Substituter URL, e.g. a stand-in cache's `uri`. */
  substituter: string;
  /** Nix public keys `name:base64` to trust (none: every signed path is refused). */
  publicKeys: readonly string[];
  /** netrc for private caches. Default: an empty one (never /etc/nix/netrc). */
  netrcFile?: string;
  /** More `--option NAME VALUE` pairs. */
  extraConf?: Record<string, string>;
}

/** A fresh directory to use as `--store DIR`. Remove it with removeStore(). */
export function makeTempStore(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'cachix-consumer-'));
}

export async function removeStore(dir: string): Promise<void> {
  // Store contents are read-only; make them writable so removal works for non-root too.
  await run('chmod', ['-R', 'u+w', dir]);
  await rm(dir, { recursive: true, force: true });
}

async function withNixCache<T>(fn: (env: NodeJS.ProcessEnv) => Promise<T>, extraEnv: NodeJS.ProcessEnv = {}): Promise<T> {
  const cacheHome = await mkdtemp(join(tmpdir(), 'cachix-xdg-cache-'));
  try {
    return await fn(cleanNixEnv({ XDG_CACHE_HOME: cacheHome, ...extraEnv }));
  } finally {
    await rm(cacheHome, { recursive: true, force: true });
  }
}

/** `nix-store --store DIR -r PATHS` with the substituter and keys given as --option flags. */
export function substituteInto(storeDir: string, paths: readonly string[], options: SubstituteOptions): Promise<RunResult> {
  return withNixCache(async (env) => {
    const netrc = options.netrcFile ?? join(env.XDG_CACHE_HOME!, 'no-netrc');
    const args = [
      '--store', storeDir, '-r', ...paths,
      '--option', 'substituters', options.substituter,
      '--option', 'trusted-public-keys', options.publicKeys.join(' '),
      '--option', 'netrc-file', netrc,
    ];
    for (const [name, value] of Object.entries(options.extraConf ?? {})) args.push('--option', name, value);
    return run('nix-store', args, { env });
  });
}

/**
 * `nix-store --store DIR -r PATHS` with no --option flags at all: the substituters, keys
 * and netrc come only from `NIX_USER_CONF_FILES=<confFile>` (read after /etc/nix/nix.conf,
 * so its `substituters = ...` overrides the global empty one). For testing what
 * `cachix use` wrote.
 */
export function substituteWithUserConf(storeDir: string, paths: readonly string[], confFile: string): Promise<RunResult> {
  return withNixCache((env) => run('nix-store', ['--store', storeDir, '-r', ...paths], { env }), {
    NIX_USER_CONF_FILES: confFile,
  });
}

/** `nix-store --store DIR --verify --check-contents` (exit 0 when every path's contents match). */
export function verifyStore(storeDir: string): Promise<RunResult> {
  return withNixCache((env) => run('nix-store', ['--store', storeDir, '--verify', '--check-contents'], { env }));
}

/** Whether `path` is valid (registered) in the store at `storeDir`. */
export async function isValidIn(storeDir: string, path: string): Promise<boolean> {
  const result = await withNixCache((env) => run('nix-store', ['--store', storeDir, '--check-validity', path], { env }));
  return result.code === 0;
}
