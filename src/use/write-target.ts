import { lstat, realpath, readlink } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { CachixError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { isWritable } from '../util/fs-access.js';

/**
 * Refuses to write a file that we could only "write" by silently replacing it: a link into
 * the Nix store or to a read-only file (home-manager and NixOS manage nix.conf that way),
 * or a dangling link. writeFileAtomic writes through links, so a link to a writable file
 * is fine. Called for every target before anything is written.
 */
export async function checkWritable(path: string, storeDirs: readonly string[]): Promise<void> {
  let stat;
  try {
    stat = await lstat(path);
  } catch {
    return; // Missing: it will be created.
  }
  let target = path;
  if (stat.isSymbolicLink()) {
    try {
      target = await realpath(path);
    } catch {
      const link = resolve(dirname(path), await readlink(path));
      throw new CachixError(`${path} is a symbolic link to ${link}, which does not exist; refusing to replace the link`, {
        hint: 'fix or remove the link, then run the command again',
      });
    }
    const managed = storeDirs.some((store) => target.startsWith(store.endsWith(sep) ? store : store + sep));
    if (managed) {
      throw new CachixError(`${path} is a link into the Nix store (${target}), managed by home-manager or NixOS, and cannot be edited`, {
        hint: 'add the cache to the configuration that generates this file, or pass --output-directory DIR to write a nix.conf elsewhere',
      });
    }
    stat = await lstat(target);
  }
  // Root passes access() checks on read-only files, so look at the mode bits too.
  const readOnly = (stat.mode & 0o222) === 0 || !(await isWritable(target)) || !(await isWritable(dirname(target)));
  if (readOnly) {
    const via = target === path ? '' : ` (via the link to ${target})`;
    throw new CachixError(`${path} is read-only${via}`, {
      hint: 'make it writable, run the command as a user who can write it, or pass --output-directory DIR',
    });
  }
}

/** Atomic write with one clear error line; the original file stays untouched on failure. */
export async function writeTarget(path: string, content: string, mode?: number): Promise<void> {
  try {
    await writeFileAtomic(path, content, mode === undefined ? {} : { mode });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CachixError(`cannot write ${path}: ${code ?? (error as Error).message}`, { cause: error });
  }
}
