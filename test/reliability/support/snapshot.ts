/** Byte-exact snapshots of a directory tree, to prove a failed command changed nothing. */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export type Snapshot = Map<string, string>;

/**
 * relative path -> "file:<mode>:<base64>", "link:<target>" or "dir:<mode>". Missing root: empty.
 * `ignore`: top-level names left out (e.g. what Nix itself creates in HOME on first run).
 */
export async function snapshotTree(root: string, ignore: readonly string[] = []): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const walk = async (dir: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (rel === '' && ignore.includes(name)) continue;
      const key = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(path);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.set(key, `link:${await readlink(path)}`);
      else if (st.isDirectory()) {
        out.set(key, `dir:${mode}`);
        await walk(path, key);
      } else out.set(key, `file:${mode}:${(await readFile(path)).toString('base64')}`);
    }
  };
  await walk(root, '');
  return out;
}
