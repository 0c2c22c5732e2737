import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Temporary files are named `.<base>.<host>.<pid>.<random>.tmp`, so that a later run can
 * tell the leftovers of a killed process (same host, pid gone) from files another live
 * process is still writing, even in a directory shared by several machines.
 */
const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '_');
const TEMP_RE = /^\..*\.([A-Za-z0-9_-]+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;

export function tempName(base: string): string {
  return `.${base}.${HOST}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/** Removes temp files in `dir` left by processes of this host that no longer run. */
export async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const match = TEMP_RE.exec(name);
    if (!match || match[1] !== HOST || processAlive(Number(match[2]))) continue;
    await rm(join(dir, name), { force: true });
  }
}

/**
 * A private scratch directory `<parent>/<prefix><pid>-XXXXXX`. Making one also removes those of
 * processes of this host that no longer run (a push killed with SIGKILL cannot clean up its
 * spool files, some of them parts of tens of MiB). Host-local parents only (/tmp, /dev/shm).
 */
export async function ownedTempDir(parent: string, prefix: string): Promise<string> {
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    const match = name.startsWith(prefix) ? /^(\d+)-[A-Za-z0-9]{6}$/.exec(name.slice(prefix.length)) : null;
    if (match && Number(match[1]) !== process.pid && !processAlive(Number(match[1]))) {
      await rm(join(parent, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
  return mkdtemp(join(parent, `${prefix}${process.pid}-`));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
