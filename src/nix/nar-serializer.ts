import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Serialises a file tree in Nix's NAR format, in memory. Used for small store paths,
 * where spawning `nix-store --dump` would cost more than the work itself; the result is
 * always checked against the NAR hash in the Nix database, so a divergence from Nix's
 * serialiser can never reach a cache.
 *
 * Synchronous file calls on purpose: these trees are small (the caller sends only paths up to
 * 1 MiB of NAR here), and each async call would cost ~60 µs of promise and thread-pool overhead
 * for a syscall of a few µs — the bulk of the time for thousands of tiny paths.
 *
 * Format: every token is a length-prefixed string (u64 little-endian length, bytes,
 * zero padding to 8). Directory entries are sorted bytewise by name, as Nix does.
 */
export function serializeNar(path: string): Buffer {
  const parts: Buffer[] = [];
  str(parts, 'nix-archive-1');
  node(parts, path);
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

function node(parts: Buffer[], path: string): void {
  const stat = lstatSync(path);
  str(parts, '(');
  str(parts, 'type');
  if (stat.isSymbolicLink()) {
    str(parts, 'symlink');
    str(parts, 'target');
    str(parts, readlinkSync(path, { encoding: 'buffer' }));
  } else if (stat.isFile()) {
    str(parts, 'regular');
    if (stat.mode & 0o100) {
      str(parts, 'executable');
      str(parts, '');
    }
    str(parts, 'contents');
    str(parts, readFileSync(path));
  } else if (stat.isDirectory()) {
    str(parts, 'directory');
    const names = readdirSync(path, { encoding: 'buffer' }).sort(Buffer.compare);
    for (const name of names) {
      str(parts, 'entry');
      str(parts, '(');
      str(parts, 'name');
      str(parts, name);
      str(parts, 'node');
      node(parts, join(path, name.toString('utf8')));
      str(parts, ')');
    }
  } else {
    throw new Error(`${path}: cannot be put in a NAR (not a file, directory or symlink)`);
  }
  str(parts, ')');
}
