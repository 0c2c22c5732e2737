/** Runs a command to completion and captures its output (no shell, no token in argv). */
import { spawn, spawnSync } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
    child.stdin.on('error', () => undefined); // EPIPE when the command exits without reading stdin
    child.stdin.end(options.input ?? '');
  });
}

/** Like run(), but throws with the command's stderr when it fails; returns stdout. */
export async function runOk(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr.trim()}`);
  }
  return result.stdout;
}

export function runSync(command: string, args: readonly string[]): RunResult {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  return { code: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** The environment for a child Nix: no NIX_CONFIG / NIX_USER_CONF_FILES leaking in from the caller. */
export function cleanNixEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NIX_CONFIG;
  delete env.NIX_USER_CONF_FILES;
  delete env.NIX_CONF_DIR;
  delete env.NIX_REMOTE;
  delete env.CACHIX_AUTH_TOKEN;
  delete env.CACHIX_SIGNING_KEY;
  return { ...env, ...extra };
}
