import { CachixError } from '../errors.js';
import type { EnvironmentFacts } from './mode.js';
import { effectiveList, readConfTree } from './nixconf-tree.js';
import { exists, isWritable } from '../util/fs-access.js';
import { readTextFile, usePaths, type UseSystem } from './system.js';

/** spec §7.2 step 2: Nix older than 2.0.1 cannot be configured this way. */
export const MINIMUM_NIX = [2, 0, 1] as const;

/** The first version number in `nix-env --version` output, e.g. [2, 8, 0]; undefined if none. */
export function parseNixVersion(output: string): number[] | undefined {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function isSupportedNix(version: readonly number[]): boolean {
  for (let i = 0; i < MINIMUM_NIX.length; i++) {
    const have = version[i] ?? 0;
    if (have !== MINIMUM_NIX[i]) return have > MINIMUM_NIX[i]!;
  }
  return true;
}

export async function checkNixVersion(system: UseSystem): Promise<void> {
  let output: string;
  try {
    const result = await system.run('nix-env', ['--version']);
    output = result.stdout;
    if (result.code !== 0) throw new CachixError(`\`nix-env --version\` failed (exit ${result.code}): ${result.stderr.trim().split('\n')[0] ?? ''}`);
  } catch (error) {
    if (error instanceof CachixError) throw error;
    throw new CachixError('cannot run `nix-env --version`: is Nix installed and on PATH?', { cause: error });
  }
  const version = parseNixVersion(output);
  if (!version) throw new CachixError(`cannot find a version number in the output of \`nix-env --version\`: ${JSON.stringify(output.trim())}`);
  if (!isSupportedNix(version)) {
    throw new CachixError(`Nix ${version.join('.')} is too old: binary caches need Nix ${MINIMUM_NIX.join('.')} or newer`, {
      hint: 'upgrade Nix',
    });
  }
}

/** `$USER` as the real client reads it; unlike it, an unset `$USER` falls back to this process's account. */
export function currentUser(env: NodeJS.ProcessEnv, system?: UseSystem): string {
  const user = env.USER || system?.accountName?.();
  if (user === undefined || user === '') {
    throw new CachixError('$USER is not set and this process has no account name: cannot tell whether you are root or a trusted Nix user', {
      hint: 'export USER=$(id -un)',
    });
  }
  return user;
}

/** Root, trusted and NixOS facts of spec §7.2 step 3. */
export async function detectEnvironment(system: UseSystem, env: NodeJS.ProcessEnv): Promise<EnvironmentFacts> {
  const user = currentUser(env, system);
  const paths = usePaths(system, env);
  const isNixOS = await exists(paths.nixosVersionFile);
  const isTrusted = (await isWritable(paths.storeDir)) || (await isTrustedUser(system, user, paths.globalNixConf));
  return { user, isRoot: user === 'root', isTrusted, isNixOS };
}

async function isTrustedUser(system: UseSystem, user: string, globalNixConf: string): Promise<boolean> {
  const trusted = effectiveList(await readConfTree(globalNixConf, readTextFile), 'trusted-users', ['root']);
  if (trusted.includes(user) || trusted.includes('*')) return true;
  const groups = trusted.filter((t) => t.startsWith('@')).map((t) => t.slice(1));
  if (groups.length === 0) return false;
  const mine = await userGroups(system, user);
  // Whole group names (the real client's substring match would trust "wheel2" for "@wheel").
  return groups.some((g) => mine.includes(g));
}

async function userGroups(system: UseSystem, user: string): Promise<string[]> {
  try {
    const result = await system.run('id', ['-Gn', user]);
    return result.code === 0 ? result.stdout.split(/\s+/).filter((g) => g !== '') : [];
  } catch {
    return [];
  }
}
