/**
 * Checks of an uploaded compressed NAR: decompress it with the zstd/xz CLI and hash the NAR
 * itself, streaming from the file (memory stays flat whatever the size) or from memory.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { sha256Nix } from '../../../src/nix/base32.js';
import type { StoredBytes } from './store.js';

export type Compression = 'xz' | 'zst';

export interface Digest {
  /** Lowercase hex sha256. */
  hex: string;
  size: number;
}

const MAGIC: Record<Compression, Buffer> = {
  zst: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  xz: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
};

async function startsWith(source: StoredBytes, magic: Buffer): Promise<boolean> {
  if ('data' in source) return source.data.subarray(0, magic.length).equals(magic);
  const handle = await open(source.file, 'r');
  try {
    const head = Buffer.alloc(magic.length);
    const { bytesRead } = await handle.read(head, 0, magic.length, 0);
    return bytesRead === magic.length && head.equals(magic);
  } finally {
    await handle.close();
  }
}

/** NAR hash (`sha256:<nix base32>`) and size of a compressed NAR, or an error text. */
export async function hashDecompressed(source: StoredBytes, compression: Compression): Promise<{ narHash: string; narSize: number } | { error: string }> {
  // The zstd CLI also decodes xz and gzip, so check the declared format's magic first.
  if (!(await startsWith(source, MAGIC[compression]))) {
    return { error: `the uploaded file is not valid ${compression === 'zst' ? 'zstd' : 'xz'} data (wrong magic number)` };
  }
  const child = spawn(compression === 'zst' ? 'zstd' : 'xz', ['-d', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const hash = createHash('sha256');
  let narSize = 0;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const input = 'data' in source ? [source.data] : createReadStream(source.file);
  const feed = pipeline(input, child.stdin).catch(() => undefined); // EPIPE when the tool gives up early
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    hash.update(chunk);
    narSize += chunk.length;
  }
  await feed;
  const code = await exited;
  if (code !== 0) {
    const tool = compression === 'zst' ? 'zstd' : 'xz';
    return { error: `the uploaded file is not valid ${tool} data (${tool} -d: ${stderr.trim().split('\n').pop() ?? `exit ${code}`})` };
  }
  return { narHash: sha256Nix(hash.digest()), narSize };
}
