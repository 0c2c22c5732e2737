// PLACEHOLDER: the config helper replaces this file with the real Dhall-subset parser.
import { CachixError } from '../errors.js';
import type { CachixConfig } from './types.js';

export function parseConfigText(_text: string, path: string): CachixConfig {
  throw new CachixError(`cannot parse ${path}: Dhall parser not implemented yet`);
}

export function renderConfig(_config: CachixConfig): string {
  throw new Error('not implemented');
}
