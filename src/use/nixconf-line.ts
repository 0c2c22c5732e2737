/**
 * One line of nix.conf, read the way Nix itself reads it (libutil config parser): everything
 * from the first `#` is a comment, the rest is split on whitespace, `include PATH` /
 * `!include PATH` pull in another file, and a setting is `key = value…` with spaces around
 * the `=`. Anything else is kept verbatim and never interpreted.
 */
export type NixConfLine =
  | { kind: 'setting'; key: string; values: string[]; indent: string; comment: string; eol: string }
  | { kind: 'include'; optional: boolean; path: string }
  /** Blank or comment-only. */
  | { kind: 'other' }
  /** Text Nix refuses ("illegal configuration line"). */
  | { kind: 'invalid' };

const WHITESPACE = /[ \t\r\n]+/;

export function parseNixConfLine(raw: string): NixConfLine {
  const hash = raw.indexOf('#');
  const body = hash >= 0 ? raw.slice(0, hash) : raw;
  const tokens = body.split(WHITESPACE).filter((t) => t !== '');
  if (tokens.length === 0) return { kind: 'other' };
  const [first, second] = tokens;
  if (first === 'include' || first === '!include') {
    return tokens.length === 2 ? { kind: 'include', optional: first === '!include', path: second! } : { kind: 'invalid' };
  }
  if (second !== '=') return { kind: 'invalid' };
  const eol = raw.endsWith('\r') ? '\r' : '';
  // Keep a trailing comment (and the spacing before it) when the line is rewritten.
  const comment = hash >= 0 ? raw.slice(body.trimEnd().length, raw.length - eol.length) : '';
  return { kind: 'setting', key: first!, values: tokens.slice(2), indent: /^[ \t]*/.exec(raw)![0], comment, eol };
}

/** Renders a setting line, keeping the indent, trailing comment and line ending of the line it replaces. */
export function renderSetting(key: string, values: readonly string[], like?: { indent: string; comment: string; eol: string }): string {
  const head = values.length > 0 ? `${key} = ${values.join(' ')}` : `${key} =`;
  let comment = like?.comment ?? '';
  if (comment !== '' && !/^[ \t]/.test(comment)) comment = ` ${comment}`;
  return `${like?.indent ?? ''}${head}${comment}${like?.eol ?? ''}`;
}

/** The lines of a file and whether it ended with a newline; joinLines(splitLines(t)) === t. */
export interface Lines {
  lines: string[];
  finalNewline: boolean;
}

export function splitLines(text: string): Lines {
  if (text === '') return { lines: [], finalNewline: false };
  const lines = text.split('\n');
  const finalNewline = text.endsWith('\n');
  if (finalNewline) lines.pop();
  return { lines, finalNewline };
}

export function joinLines({ lines, finalNewline }: Lines): string {
  if (lines.length === 0) return '';
  return lines.join('\n') + (finalNewline ? '\n' : '');
}
