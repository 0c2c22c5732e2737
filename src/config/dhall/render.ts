import { CachixError } from '../../errors.js';
import type { BinaryCacheConfig, CachixConfig } from '../types.js';
import { ENTRY_TYPE_TEXT } from './decode.js';

/**
 * Renders the config in the real client's layout (spec §2.2): leading commas, one field
 * per line, field order authToken, hostname, binaryCaches; the empty list carries its type.
 */
export function renderConfig(config: CachixConfig): string {
  const lines = [
    `{ authToken = ${renderText(config.authToken)}`,
    `, hostname = ${renderText(config.hostname)}`,
    ...renderCaches(config.binaryCaches),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

function renderCaches(caches: readonly BinaryCacheConfig[]): string[] {
  if (caches.length === 0) return [`, binaryCaches = [] : ${ENTRY_TYPE_TEXT}`];
  return [
    ', binaryCaches =',
    ...caches.map((c, i) => `  ${i === 0 ? '[' : ','} { name = ${renderText(c.name)}, secretKey = ${renderText(c.secretKey)} }`),
    '  ]',
  ];
}

const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x24: '\\$',
  0x5c: '\\\\',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
};

/**
 * A Dhall double-quoted text literal that reads back as exactly `value`. `$` is always
 * escaped so no `${` can start an interpolation; other control characters use `\uXXXX`.
 */
export function renderText(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    const short = SHORT_ESCAPES[code];
    if (short !== undefined) out += short;
    else if (code < 0x20) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else if (code >= 0xd800 && code <= 0xdfff) {
      // A lone UTF-16 surrogate has no UTF-8 form; writing it would silently corrupt the file.
      throw new CachixError('cannot store text with an unpaired UTF-16 surrogate in the config file');
    } else if (isNonCharacter(code)) out += `\\u{${code.toString(16).toUpperCase()}}`;
    else out += char;
  }
  return `${out}"`;
}

/** Unicode non-characters (U+FDD0..FDEF, U+xFFFE/xFFFF) are not allowed raw in Dhall text. */
function isNonCharacter(code: number): boolean {
  return (code >= 0xfdd0 && code <= 0xfdef) || (code & 0xfffe) === 0xfffe;
}
