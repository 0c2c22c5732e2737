import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * `mkdir -p`, one level at a time. Node 20's `mkdir(dir, { recursive: true })` retries
 * forever when ENOENT keeps coming back (e.g. below /proc), spinning at 100 % CPU and
 * ignoring signals; this version fails with the error instead.
 */
export async function makeDirectories(dir: string, mode?: number): Promise<void> {
  try {
    await mkdir(dir, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
    await makeDirectories(parent, mode);
    try {
      await mkdir(dir, mode);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}
