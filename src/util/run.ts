import { spawn } from 'node:child_process';
import { CachixError } from '../errors.js';
import { childEnv } from './child-env.js';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** What to install when a program is missing, so the error can say it. */
const PACKAGE_HINTS: Record<string, string> = {
  'nix-store': 'install Nix (Debian: apt-get install nix-bin, or scripts/install-nix.sh)',
  nix: 'install Nix (Debian: apt-get install nix-bin, or scripts/install-nix.sh)',
  zstd: 'install zstd (Debian/Ubuntu: apt-get install zstd)',
  xz: 'install xz (Debian/Ubuntu: apt-get install xz-utils)',
};

export function missingProgramError(program: string): CachixError {
  return new CachixError(`${program} was not found on PATH`, { hint: PACKAGE_HINTS[program] });
}

/** Runs a program to completion, capturing output. Secrets are stripped from its environment. */
export function run(program: string, args: readonly string[], options: { input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? missingProgramError(program) : error);
    });
    child.on('close', (code) => {
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code: code ?? 1 });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** The most useful line of a Nix error output (its `error:` line when there is one). */
export function nixErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const error = lines.find((l) => l.startsWith('error:'));
  return (error ?? lines[lines.length - 1] ?? 'unknown error').replace(/\x1b\[[0-9;]*m/g, '');
}
