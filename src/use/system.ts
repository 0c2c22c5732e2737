import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { childEnv } from '../util/child-env.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { xdgConfigHome } from '../config/paths.js';
import { CachixError } from '../errors.js';
import type { ReadText } from './nixconf-tree.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The outside world as `use` and `remove` see it, injectable so tests never touch the real
 * /etc, /run or /nix: a root prefix for system paths and a way to run a command.
 */
export interface UseSystem {
  /** Prefix of /etc/nix, /run/current-system and /nix/store; '/' for the real machine. */
  rootDir: string;
  /** Runs a command without a shell; rejects with ENOENT when it is not installed. */
  run(command: string, args: readonly string[]): Promise<CommandResult>;
  /** The account name of this process, for when `$USER` is unset (containers, some CI runners). */
  accountName?(): string | undefined;
}

export function realSystem(env: NodeJS.ProcessEnv): UseSystem {
  return { rootDir: '/', run: (command, args) => runCommand(command, args, env), accountName };
}

function accountName(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined; // a uid with no passwd entry
  }
}

function runCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    // Secrets stay out of child processes' environments.
    const child = spawn(command, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Where things live for a given system and environment. */
export interface UsePaths {
  globalNixConf: string;
  globalNetrc: string;
  storeDir: string;
  nixosVersionFile: string;
  userNixConf: string;
}

export function usePaths(system: UseSystem, env: NodeJS.ProcessEnv): UsePaths {
  const root = system.rootDir;
  return {
    globalNixConf: join(root, 'etc/nix/nix.conf'),
    globalNetrc: join(root, 'etc/nix/netrc'),
    storeDir: join(root, 'nix/store'),
    nixosVersionFile: join(root, 'run/current-system/nixos-version'),
    userNixConf: join(xdgConfigHome(env), 'nix', 'nix.conf'),
  };
}

/** ReadText over the real file system: undefined for a missing file, a clear error otherwise. */
export const readTextFile: ReadText = async (path) => {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new CachixError(`cannot read ${path}: ${code ?? (error as Error).message}`);
  }
};

