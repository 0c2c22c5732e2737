import { chmod, open, realpath, rename, rm, lstat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { makeDirectories } from './make-directories.js';
import { tempName } from './temp-names.js';

export interface AtomicWriteOptions {
  /** File mode for the new file; secrets use 0o600. Defaults to the existing file's mode, else 0o644. */
  mode?: number;
  /** Create missing parent directories (mode 0o755, or 0o700 when the file is secret). */
  createParents?: boolean;
}

/**
 * Writes `content` to `path` so that readers see either the old or the new file, never a
 * half-written one: write a temp file in the same directory, fsync it, then rename over.
 * A symlinked target (home-manager style) is written through: the link's final target is
 * replaced and the link itself stays a link.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const target = await resolveLinkTarget(path);
  const dir = dirname(target);
  if (options.createParents ?? true) {
    await makeDirectories(dir, options.mode === 0o600 ? 0o700 : 0o755);
  }
  const mode = options.mode ?? (await existingMode(target)) ?? 0o644;
  const temp = join(dir, tempName(basename(target)));
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
    await handle.close();
    // open() honours the umask; the mode must be exact for secrets.
    await chmod(temp, mode);
    await rename(temp, target);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

async function resolveLinkTarget(path: string): Promise<string> {
  try {
    const stat = await lstat(path);
    if (stat.isSymbolicLink()) return await realpath(path);
  } catch {
    // Missing file or dangling link: write at the given path.
  }
  return path;
}

async function existingMode(path: string): Promise<number | undefined> {
  try {
    return (await lstat(path)).mode & 0o777;
  } catch {
    return undefined;
  }
}
