import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { Context } from '../../../src/context.js';

/** A Context with captured stdout/stderr and a chosen stdin, for calling `run` directly. */
export interface FakeContext extends Context {
  out(): string;
  err(): string;
}

export function fakeContext(options: {
  configPath: string;
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  stdinIsTTY?: boolean;
  hostOverride?: string;
}): FakeContext {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]) as Context['stdin'];
  stdin.isTTY = options.stdinIsTTY ?? false;
  return {
    configPath: options.configPath,
    hostOverride: options.hostOverride,
    verbose: false,
    env: options.env ?? {},
    stdin,
    stdout,
    stderr,
    out: () => out,
    err: () => err,
  };
}

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'cachix-ts-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
