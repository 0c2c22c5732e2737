/**
 * Real Nix as the judge of a binary cache (Cachix stand-in or file:// directory): every
 * check runs in a throw-away store with its own XDG_CACHE_HOME, trusting only the keys given.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { cleanNixEnv, run, type RunResult } from '../../support/nix/run.js';
import { makeTempStore, removeStore, substituteInto, verifyStore } from '../../support/nix/substitute.js';

/** `nix-store --store <fresh> -r paths` must succeed, and the result must pass --check-contents. */
export async function expectNixAccepts(substituter: string, paths: readonly string[], keys: readonly string[]): Promise<void> {
  const store = await makeTempStore();
  try {
    const result = await substituteInto(store, paths, { substituter, publicKeys: keys });
    expect(result.stderr).not.toMatch(/error|not signed/);
    expect(result.code).toBe(0);
    const verify = await verifyStore(store);
    expect(verify.code).toBe(0);
  } finally {
    await removeStore(store);
  }
}

/** Substituting `path` (input-addressed: CA paths are accepted unsigned) must be refused for its signature. */
export async function expectNixRefusesSignature(substituter: string, path: string, keys: readonly string[]): Promise<void> {
  const store = await makeTempStore();
  try {
    const refused = await substituteInto(store, [path], { substituter, publicKeys: keys });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`the substitute for '${path}' from '${substituter}' is not signed by any of the keys`);
  } finally {
    await removeStore(store);
  }
}

/** Runs `nix ARGS` with a fresh XDG_CACHE_HOME and no NIX_* config from the caller. */
export async function nix(args: readonly string[]): Promise<RunResult> {
  const cacheHome = await mkdtemp(join(tmpdir(), 'cachix-xdg-cache-'));
  try {
    return await run('nix', args, { env: cleanNixEnv({ XDG_CACHE_HOME: cacheHome }) });
  } finally {
    await rm(cacheHome, { recursive: true, force: true });
  }
}

export interface PathInfoJson {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
  signatures?: string[];
}

/**
 * `nix path-info --json -r` as a map by path. Nix 2.8 prints an array; Nix >= 2.19 an
 * object keyed by path; both are accepted.
 */
export async function pathInfo(paths: readonly string[], store?: string): Promise<Map<string, PathInfoJson>> {
  const result = await nix(['path-info', ...(store ? ['--store', store] : []), '--json', '-r', ...paths]);
  if (result.code !== 0) throw new Error(`nix path-info failed (${result.code}): ${result.stderr.trim()}`);
  const parsed = JSON.parse(result.stdout) as PathInfoJson[] | Record<string, Omit<PathInfoJson, 'path'>>;
  const list = Array.isArray(parsed) ? parsed : Object.entries(parsed).map(([path, info]) => ({ ...info, path }));
  return new Map(list.map((info) => [info.path, info]));
}
