import { CachixError } from '../errors.js';

/**
 * netrc editing (pure: text in, text out). The file is cut into entries at each `machine`,
 * `default` and `macdef` token; entries we do not replace keep their exact bytes.
 *
 * The login is always written: the curl inside Nix (checked with Nix 2.8) sends no
 * credentials for a `machine … password …` entry without `login` when another entry
 * follows it, so the real client's login-less entries only work when last in the file.
 */
export const NETRC_LOGIN = 'cachix';

interface Token {
  text: string;
  start: number;
}

interface Entry {
  kind: 'machine' | 'default' | 'macdef';
  machine: string | undefined;
  /** Byte span in the file: from the entry's first token to the next entry's first token. */
  start: number;
  end: number;
}

interface Parsed {
  preamble: string;
  entries: Entry[];
}

/** Adds (or replaces) the credentials for `machine`, newest first, one entry per machine. */
export function upsertNetrcEntry(text: string, machine: string, password: string, source = 'netrc'): string {
  if (/[\s"]/.test(password) || password === '') {
    throw new CachixError('the auth token cannot be written to netrc: it is empty or contains spaces or quotes');
  }
  const parsed = parseNetrc(text, source);
  const entry = `machine ${machine} login ${NETRC_LOGIN} password ${password}\n`;
  const kept = parsed.entries.filter((e) => e.machine !== machine);
  let rest = kept.map((e) => text.slice(e.start, e.end)).join('');
  // The separator before a removed last entry would otherwise become trailing blank lines.
  if (kept.length > 0 && kept[kept.length - 1] !== parsed.entries[parsed.entries.length - 1]) rest = `${rest.trimEnd()}\n`;
  const separator = rest === '' ? '' : '\n';
  const preamble = parsed.preamble === '' || parsed.preamble.endsWith('\n') ? parsed.preamble : `${parsed.preamble}\n`;
  return preamble + entry + separator + rest;
}

/** The machines with an entry, in file order (for tests and messages). */
export function netrcMachines(text: string): string[] {
  return parseNetrc(text, 'netrc').entries.flatMap((e) => (e.machine === undefined ? [] : [e.machine]));
}

function parseNetrc(text: string, source: string): Parsed {
  const tokens = tokenize(text, source);
  const entries: Entry[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.text === 'machine' || token.text === 'default' || token.text === 'macdef') {
      const last = entries[entries.length - 1];
      if (last) last.end = token.start;
      const needsName = token.text !== 'default';
      const name = needsName ? tokens[i + 1] : undefined;
      if (needsName && name === undefined) throw new CachixError(`cannot parse ${source}: "${token.text}" without a name at the end of the file`);
      entries.push({ kind: token.text, machine: token.text === 'machine' ? name!.text : undefined, start: token.start, end: text.length });
      if (needsName) i++;
    } else if (token.text === 'login' || token.text === 'password' || token.text === 'account') {
      if (tokens[i + 1] === undefined) throw new CachixError(`cannot parse ${source}: "${token.text}" without a value at the end of the file`);
      i++;
    }
  }
  return { preamble: text.slice(0, entries[0]?.start ?? text.length), entries };
}

/**
 * Whitespace-separated tokens with their offsets. `"…"` quotes a token (curl >= 7.84), a
 * `macdef` body runs to the next blank line, and a line starting with `#` is a comment.
 */
function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let lineStart = true;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      lineStart = true;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' && lineStart) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    lineStart = false;
    const start = i;
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      if (i >= text.length) throw new CachixError(`cannot parse ${source}: unterminated quoted string`);
      i++;
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) i++;
    }
    tokens.push({ text: text.slice(start, i), start });
    const previous = tokens[tokens.length - 2];
    if (previous?.text === 'macdef') {
      // The macro body: everything up to (and including) the next empty line.
      const blank = text.indexOf('\n\n', i);
      i = blank < 0 ? text.length : blank + 2;
      lineStart = true;
    }
  }
  return tokens;
}

/**
 * The netrc machine for a cache URI: the bare host, because curl matches entries on the
 * host name only (no scheme, port, path or trailing slash).
 */
export function netrcMachineFor(uri: string): string {
  try {
    const url = new URL(uri);
    if (url.hostname !== '') return url.hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    // Not a URL: fall through to the textual strip below.
  }
  return uri.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/[/:?#].*$/, '');
}
