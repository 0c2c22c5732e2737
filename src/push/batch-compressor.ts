import { accessSync, constants, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CachixError } from '../errors.js';
import { run } from '../util/run.js';
import { batchCompressorCommand, type Compression } from './compression.js';

interface Pending {
  data: Buffer;
  resolve: (compressed: Buffer) => void;
  reject: (error: unknown) => void;
}

/**
 * Compresses small NARs many at a time with one run of the system compressor. Spawning
 * a process costs ~15 ms of main-thread time (libuv forks the whole Node process), which
 * would dominate pushes of many tiny paths; batching makes it a few per thousand paths.
 * Requests arriving within `delayMs` of each other share a run (up to `maxBatch`).
 */
export class BatchCompressor {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private dir: Promise<string> | undefined;
  private batchNo = 0;

  constructor(
    private readonly method: Compression,
    private readonly level: number,
    private readonly options: { maxBatch: number; delayMs: number } = { maxBatch: 256, delayMs: 3 },
  ) {}

  compress(data: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.pending.push({ data, resolve, reject });
      if (this.pending.length >= this.options.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.delayMs);
    });
  }

  async close(): Promise<void> {
    if (this.dir) await rm(await this.dir, { recursive: true, force: true });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.run(batch).catch((error: unknown) => {
        for (const p of batch) p.reject(error);
      });
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    this.dir ??= mkdtemp(join(scratchDir(), 'cachix-batch-'));
    const dir = await this.dir;
    const id = this.batchNo++;
    const files = batch.map((_, i) => join(dir, `${id}-${i}`));
    // Small files in the page cache: synchronous calls take microseconds where async ones pay
    // far more in overhead (see nar-serializer.ts).
    files.forEach((f, i) => writeFileSync(f, batch[i]!.data));
    const { program, args, suffix } = batchCompressorCommand(this.method, this.level);
    await runToCompletion(program, [...args, ...files]);
    const outputs = files.map((f) => readFileSync(f + suffix));
    for (const f of files) rmSync(f + suffix, { force: true });
    batch.forEach((p, i) => p.resolve(outputs[i]!));
  }
}

/**
 * Where the small, short-lived batch files go: /dev/shm (tmpfs) when it is usable, since creating
 * a file on a journaling disk costs ~0.7 ms here against ~0.01 ms in memory; else $TMPDIR. Large
 * parts never go here (see chunker.ts), so this holds a few MiB at most.
 */
function scratchDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

async function runToCompletion(program: string, args: string[]): Promise<void> {
  const result = await run(program, args);
  if (result.code !== 0) throw new CachixError(`${program} failed: ${result.stderr.trim().split('\n')[0] || `exit ${result.code}`}`);
}
