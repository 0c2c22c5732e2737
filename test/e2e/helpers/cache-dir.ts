/** Reading a local binary cache directory (`file:///dir`) the way Nix would, to check its consistency. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseNarInfo, type NarInfo } from '../../../src/nix/narinfo.js';

export interface CacheDirEntry {
  /** Store hash (file name without `.narinfo`). */
  hash: string;
  info: NarInfo;
}

/** Every narinfo in the directory, parsed. */
export async function readNarinfos(dir: string): Promise<CacheDirEntry[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.narinfo')).sort();
  return Promise.all(
    names.map(async (name) => ({ hash: name.slice(0, -'.narinfo'.length), info: parseNarInfo(await readFile(join(dir, name), 'utf8')) })),
  );
}

/** Narinfos whose NAR file is missing or has another size than FileSize says (must be none). */
export async function danglingNarinfos(dir: string): Promise<string[]> {
  const bad: string[] = [];
  for (const { hash, info } of await readNarinfos(dir)) {
    const size = await stat(join(dir, info.url)).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined || size !== info.fileSize) bad.push(`${hash} -> ${info.url} (${size ?? 'missing'} vs FileSize ${info.fileSize})`);
  }
  return bad;
}

/** Names of temporary files anywhere in the cache directory (top level and nar/). */
export async function tempFiles(dir: string): Promise<string[]> {
  const top = (await readdir(dir).catch(() => [] as string[])).filter(isTemp);
  const nar = (await readdir(join(dir, 'nar')).catch(() => [] as string[])).filter(isTemp).map((n) => `nar/${n}`);
  return [...top, ...nar];
}

function isTemp(name: string): boolean {
  return name.endsWith('.tmp') || name.includes('.tmp.') || name.includes('.tmp-');
}

export function storeHash(path: string): string {
  return path.slice('/nix/store/'.length, '/nix/store/'.length + 32);
}

/** Narinfos listing a reference that has no narinfo in the directory (must be none: a cache stays closed under references). */
export async function missingReferences(dir: string): Promise<string[]> {
  const entries = await readNarinfos(dir);
  const present = new Set(entries.map((e) => e.hash));
  return entries.flatMap(({ hash, info }) => info.references.filter((r) => !present.has(r.slice(0, 32))).map((r) => `${hash} -> ${r}`));
}
