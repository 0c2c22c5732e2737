/** A cachix config file in a throw-away directory, written and read the way the CLI does. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText, renderConfig } from '../../../src/config/dhall.js';
import type { BinaryCacheConfig, CachixConfig } from '../../../src/config/types.js';

export interface ConfigFile {
  dir: string;
  path: string;
  /** The file's exact bytes right now. */
  bytes(): Promise<Buffer>;
  read(): Promise<CachixConfig>;
  /** Every name in the config's directory (a leftover temp file would show up here). */
  siblings(): Promise<string[]>;
}

const created: string[] = [];

/** Removes every directory made by makeConfigFile so far (call from afterAll). */
export async function removeConfigFiles(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export async function makeConfigFile(initial?: { authToken?: string; hostname: string; binaryCaches?: BinaryCacheConfig[] }): Promise<ConfigFile> {
  const dir = await mkdtemp(join(tmpdir(), 'cachix-cfg-'));
  created.push(dir);
  const path = join(dir, 'cachix.dhall');
  if (initial) {
    await writeFile(path, renderConfig({ authToken: initial.authToken ?? '', hostname: initial.hostname, binaryCaches: initial.binaryCaches ?? [] }), {
      mode: 0o600,
    });
  }
  return {
    dir,
    path,
    bytes: () => readFile(path),
    read: async () => parseConfigText(await readFile(path, 'utf8'), path),
    siblings: async () => (await readdir(dir)).sort(),
  };
}
