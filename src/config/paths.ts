import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function xdgConfigHome(env: NodeJS.ProcessEnv): string {
  const value = env.XDG_CONFIG_HOME;
  return value && value.trim() !== '' ? value : join(env.HOME ?? homedir(), '.config');
}

export function xdgCacheHome(env: NodeJS.ProcessEnv): string {
  const value = env.XDG_CACHE_HOME;
  return value && value.trim() !== '' ? value : join(env.HOME ?? homedir(), '.cache');
}

/** `$XDG_CONFIG_HOME/cachix/cachix.dhall`, or the -c/--config path made absolute. */
export function configFilePath(env: NodeJS.ProcessEnv, explicit?: string): string {
  if (explicit !== undefined) return resolve(explicit);
  return join(xdgConfigHome(env), 'cachix', 'cachix.dhall');
}
