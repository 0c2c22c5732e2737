import { existsSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { CachixError } from '../errors.js';

/**
 * Reports store paths as Nix finishes writing them. Nix holds `<path>.lock` while it builds,
 * substitutes or adds a path and deletes it once the path is registered valid, so the removal
 * of a lock file is the moment to push (spec §8: the real client watches exactly this with
 * inotify). Locks of derivations (`.drv.lock`) are left out: .drv files are not pushed on
 * their own. The paths reported may still be invalid (a failed build also drops its lock);
 * the push resolves and skips those.
 */
export function watchStore(storeDir: string, onPath: (path: string) => void, onError: (error: CachixError) => void): { close(): void } {
  let watcher: FSWatcher;
  try {
    watcher = watch(storeDir, { persistent: true }, (_event, file) => {
      if (!file || !file.endsWith('.lock') || file.endsWith('.drv.lock')) return;
      // Creation and removal both arrive as 'rename': only a lock that is gone means "done".
      if (existsSync(join(storeDir, file))) return;
      onPath(join(storeDir, file.slice(0, -'.lock'.length)));
    });
  } catch (error) {
    throw watchError(storeDir, error);
  }
  watcher.on('error', (error) => onError(watchError(storeDir, error)));
  return { close: () => watcher.close() };
}

function watchError(storeDir: string, error: unknown): CachixError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') {
    return new CachixError(`cannot watch ${storeDir}: the inotify watch limit is reached`, { hint: 'raise fs.inotify.max_user_watches' });
  }
  return new CachixError(`cannot watch ${storeDir}: ${(error as Error).message}`);
}
