import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Serialises a file tree in Nix's NAR format, in memory. Used for small store paths,
 * where spawning `nix-store --dump` would cost more than the work itself; the result is
 * always checked against the NAR hash in the Nix database, so a divergence from Nix's
 * serialiser can never reach a cache.
 *
 * Format: every token is a length-prefixed string (u64 little-endian length, bytes,
 * zero padding to 8). Directory entries are sorted bytewise by name, as Nix does.
 */
export async function serializeNar(path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  str(parts, 'nix-archive-1');
  await node(parts, path);
  return Buffer.concat(parts);
}

const PADDING = Buffer.alloc(8);

function str(parts: Buffer[], value: string | Buffer): void {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(bytes.length));
  parts.push(length, bytes);
  const pad = (8 - (bytes.length % 8)) % 8;
  if (pad > 0) parts.push(PADDING.subarray(0, pad));
}

async function node(parts: Buffer[], path: string): Promise<void> {
  const stat = await lstat(path);
  str(parts, '(');
  str(parts, 'type');
  if (stat.isSymbolicLink()) {
    str(parts, 'symlink');
    str(parts, 'target');
    str(parts, await readlink(path, { encoding: 'buffer' }));
  } else if (stat.isFile()) {
    str(parts, 'regular');
    if (stat.mode & 0o100) {
      str(parts, 'executable');
      str(parts, '');
    }
    str(parts, 'contents');
    str(parts, await readFile(path));
  } else if (stat.isDirectory()) {
    str(parts, 'directory');
    const names = (await readdir(path, { encoding: 'buffer' })).sort(Buffer.compare);
    for (const name of names) {
      str(parts, 'entry');
      str(parts, '(');
      str(parts, 'name');
      str(parts, name);
      str(parts, 'node');
      await node(parts, join(path, name.toString('utf8')));
      str(parts, ')');
    }
  } else {
    throw new Error(`${path}: cannot be put in a NAR (not a file, directory or symlink)`);
  }
  str(parts, ')');
}
