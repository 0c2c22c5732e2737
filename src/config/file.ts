import { readFile } from 'node:fs/promises';
import { CachixError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { parseConfigText, renderConfig } from './dhall.js';
import { defaultConfig, type CachixConfig } from './types.js';

/** Missing file -> defaults; unreadable or malformed -> one clear fatal line naming the file. */
export async function readConfigFile(path: string): Promise<CachixConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig();
    throw new CachixError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  return parseConfigText(text, path);
}

/** Atomic, mode 0600 (it holds the token and secret keys). Returns the line to print. */
export async function writeConfigFile(path: string, config: CachixConfig): Promise<string> {
  try {
    await writeFileAtomic(path, renderConfig(config), { mode: 0o600 });
  } catch (error) {
    throw new CachixError(`cannot write config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return `Written to ${path}`;
}
