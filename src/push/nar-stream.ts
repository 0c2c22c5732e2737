import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CachixError } from '../errors.js';
import { sha256Nix } from '../nix/base32.js';
import { childEnv } from '../util/child-env.js';
import { missingProgramError, nixErrorLine } from '../util/run.js';
import { compressorCommand, type Compression } from './compression.js';
import { HashTap } from './hash-tap.js';

/** What one pass over a store path yields: the values the narinfo needs. */
export interface NarSummary {
  /** `sha256:<nix base32>` of the uncompressed NAR. */
  narHash: string;
  narSize: number;
  /** Lowercase hex sha256 of the compressed file. */
  fileHash: string;
  fileSize: number;
}

export interface NarStream {
  /** The compressed NAR, to be consumed exactly once. */
  compressed: Readable;
  /**
   * Resolves once every byte went through and both processes exited cleanly. A partial
   * dump still yields a well-formed compressed stream, so consumers must await this
   * before publishing anything.
   */
  result: Promise<NarSummary>;
  /** Stops the child processes (on abort or failure). */
  kill(): void;
}

/**
 * `nix-store --dump PATH` -> sha256+size -> `zstd|xz` -> sha256+size -> `compressed`.
 * Compression runs in its own process (multi-threaded, event loop stays free); memory
 * stays constant because every stage is a back-pressured stream.
 */
export function openNarStream(storePath: string, method: Compression, level: number, onNarBytes?: (bytes: number) => void): NarStream {
  const env = childEnv();
  const dump = spawn('nix-store', ['--dump', storePath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const { program, args } = compressorCommand(method, level);
  const compressor = spawn(program, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const narTap = new HashTap(0, onNarBytes);
  const fileTap = new HashTap(1);

  const dumpDone = exited(dump, 'nix-store', (stderr) => `cannot dump ${storePath}: ${nixErrorLine(stderr)}`);
  const compressorDone = exited(compressor, program, (stderr) => `${program} failed while compressing ${storePath}: ${stderr.trim().split('\n')[0]}`);
  const into = pipeline(dump.stdout!, narTap, compressor.stdin!);
  const out = pipeline(compressor.stdout!, fileTap);

  const kill = (): void => {
    for (const child of [dump, compressor]) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  // A failing stage fails the others too, so the consumer never waits forever.
  const failAll = (error: unknown): void => {
    kill();
    fileTap.destroy(error instanceof Error ? error : new Error(String(error)));
  };
  dumpDone.catch(failAll);
  compressorDone.catch(failAll);
  into.catch(failAll);

  const result = Promise.all([dumpDone, compressorDone, into, out]).then(async (): Promise<NarSummary> => {
    const [narDigest, fileDigest] = await Promise.all([narTap.digest(), fileTap.digest()]);
    return { narHash: sha256Nix(narDigest), narSize: narTap.size, fileHash: fileDigest.toString('hex'), fileSize: fileTap.size };
  });
  // Marked as handled here; whoever awaits `result` still sees the rejection.
  result.catch(() => undefined);
  return { compressed: fileTap, result, kill };
}

function exited(child: ChildProcess, program: string, describe: (stderr: string) => string): Promise<void> {
  const stderr: Buffer[] = [];
  child.stderr?.on('data', (b: Buffer) => stderr.push(b));
  return new Promise((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? missingProgramError(program) : error));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new CachixError(describe(Buffer.concat(stderr).toString('utf8') || `exit ${code ?? signal}`)));
    });
  });
}
