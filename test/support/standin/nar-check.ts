/**
 * Streaming checks of an uploaded compressed NAR: hash the file as stored, and decompress
 * it with the zstd/xz CLI to hash the NAR itself. Memory stays flat whatever the size.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { sha256Nix } from '../../../src/nix/base32.js';

export type Compression = 'xz' | 'zst';

export interface Digest {
  /** Lowercase hex sha256. */
  hex: string;
  size: number;
}

export async function hashFile(path: string): Promise<Digest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { hex: hash.digest('hex'), size };
}

/** NAR hash (`sha256:<nix base32>`) and size of a compressed NAR file, or an error text. */
const MAGIC: Record<Compression, Buffer> = {
  zst: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  xz: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
};

async function startsWith(path: string, magic: Buffer): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(magic.length);
    const { bytesRead } = await handle.read(head, 0, magic.length, 0);
    return bytesRead === magic.length && head.equals(magic);
  } finally {
    await handle.close();
  }
}

export async function hashDecompressed(path: string, compression: Compression): Promise<{ narHash: string; narSize: number } | { error: string }> {
  // The zstd CLI also decodes xz and gzip, so check the declared format's magic first.
  if (!(await startsWith(path, MAGIC[compression]))) {
    return { error: `the uploaded file is not valid ${compression === 'zst' ? 'zstd' : 'xz'} data (wrong magic number)` };
  }
  const child = spawn(compression === 'zst' ? 'zstd' : 'xz', ['-d', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const hash = createHash('sha256');
  let narSize = 0;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const feed = pipeline(createReadStream(path), child.stdin).catch(() => undefined); // EPIPE when the tool gives up early
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
