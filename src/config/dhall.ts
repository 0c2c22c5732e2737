import { CachixError } from '../errors.js';
import type { CachixConfig } from './types.js';
import { decodeConfig } from './dhall/decode.js';
import { DhallSyntaxError, lineColumnOf, parseDhallValue } from './dhall/syntax.js';

export { renderConfig, renderText } from './dhall/render.js';

/**
 * Reads a cachix.dhall (the Dhall subset of spec §2.2). Fields left out take the real
 * client's defaults. Any problem is one line: the file, line:column, and what was expected.
 */
export function parseConfigText(text: string, path: string): CachixConfig {
  try {
    return decodeConfig(parseDhallValue(text));
  } catch (error) {
    if (error instanceof DhallSyntaxError) {
      const { line, column } = lineColumnOf(text, error.offset);
      throw new CachixError(`cannot parse config file ${path} at ${line}:${column}: ${error.message}`);
    }
    throw error;
  }
}
