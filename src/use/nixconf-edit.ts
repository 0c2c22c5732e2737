import { joinLines, parseNixConfLine, renderSetting, splitLines, type NixConfLine } from './nixconf-line.js';
import type { ConfSetting } from './nixconf-tree.js';

/**
 * Line-preserving nix.conf editing (pure: text in, text out). Only the substituter and key
 * lines (and, when asked, one `netrc-file` line) change; every other line, comment and
 * blank line is kept byte for byte, and running the same edit twice changes nothing.
 */

export const NIXOS_CACHE = 'https://cache.nixos.org';
export const NIXOS_CACHE_KEY = 'cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=';

interface Family {
  /** The name written. */
  modern: string;
  /** Names that set the list (legacy aliases are rewritten to `modern`). */
  plain: readonly string[];
  /** Names that append to it. */
  extra: readonly string[];
  /** Always listed first: setting the list replaces Nix's default, so the default is re-added. */
  base: string;
  /** Identity used for de-duplication. */
  same: (value: string) => string;
}

const SUBSTITUTERS: Family = {
  modern: 'substituters',
  plain: ['substituters', 'binary-caches'],
  extra: ['extra-substituters', 'extra-binary-caches'],
  base: NIXOS_CACHE,
  same: (uri) => uri.replace(/\/+$/, ''),
};

const PUBLIC_KEYS: Family = {
  modern: 'trusted-public-keys',
  plain: ['trusted-public-keys', 'binary-cache-public-keys'],
  extra: ['extra-trusted-public-keys', 'extra-binary-cache-public-keys'],
  base: NIXOS_CACHE_KEY,
  same: (key) => key,
};

export interface CacheToAdd {
  /** The substituter URL. */
  uri: string;
  publicKeys: readonly string[];
}

export interface AddCacheOptions {
  /**
   * Settings Nix reads besides the target's own lines: the global nix.conf (anchor -1) in
   * user mode, and the files the target includes (anchored at their include line).
   */
  external?: readonly ConfSetting[];
  /** Make the file set `netrc-file = <path>` (user mode, when no netrc-file is set anywhere yet). */
  netrcFile?: string;
}

/** Line operations keyed by the index of an original line, applied together. */
interface Edits {
  replace: Map<number, string>;
  remove: Set<number>;
  insertBefore: Map<number, string[]>;
  append: string[];
}

/**
 * The settings Nix reads besides the target's own lines, anchored for addCacheToNixConf:
 * the global file and its includes come first (anchor -1), the target's includes sit at
 * their include line.
 */
export function externalSettings(globalTree: readonly ConfSetting[], targetTree: readonly ConfSetting[]): ConfSetting[] {
  return [...globalTree.map((s) => ({ ...s, anchor: -1, inRoot: false })), ...targetTree.filter((s) => !s.inRoot)];
}

/** Adds a cache to a nix.conf text ('' for a missing file). */
export function addCacheToNixConf(text: string, cache: CacheToAdd, options: AddCacheOptions = {}): string {
  const file = splitLines(text);
  const parsed = file.lines.map(parseNixConfLine);
  const external = options.external ?? [];
  const edits: Edits = { replace: new Map(), remove: new Set(), insertBefore: new Map(), append: [] };
  planFamily(SUBSTITUTERS, parsed, external, [cache.uri], edits);
  planFamily(PUBLIC_KEYS, parsed, external, cache.publicKeys, edits);
  if (options.netrcFile !== undefined) planNetrcFile(options.netrcFile, parsed, edits);
  return applyEdits(file.lines, file.finalNewline, edits);
}

interface Occurrence {
  anchor: number;
  key: string;
  values: readonly string[];
}

function planFamily(family: Family, parsed: NixConfLine[], external: readonly ConfSetting[], wanted: readonly string[], edits: Edits): void {
  const own: Occurrence[] = [];
  parsed.forEach((line, anchor) => {
    if (line.kind === 'setting') own.push({ anchor, key: line.key, values: line.values });
  });
  const all = [...external, ...own].sort((a, b) => a.anchor - b.anchor);
  const plainLines = own.filter((o) => family.plain.includes(o.key)).map((o) => o.anchor);
  const firstExtra = own.find((o) => family.extra.includes(o.key))?.anchor;

  // Where the one `key = …` line goes: the first existing one; else just before the first
  // `extra-key` line (an `extra-` line above a plain one is overridden by it); else the end.
  const at = plainLines[0] ?? firstExtra ?? parsed.length;
  const replacing = plainLines.length > 0;
  const isAfter = (anchor: number) => (replacing ? anchor > at : anchor >= at);

  const fromPlain = all.filter((o) => family.plain.includes(o.key)).flatMap((o) => o.values);
  const extras = all.filter((o) => family.extra.includes(o.key));
  // Appended by extra- lines that Nix reads after ours: those need not be repeated.
  const provided = new Set(extras.filter((o) => isAfter(o.anchor)).flatMap((o) => o.values.map(family.same)));
  // Appended by extra- lines before a line we add: that line would override them, so they
  // are carried into it. (Before an existing plain line they are overridden already and
  // stay as they are: `use` adds the cache, it does not revive dead settings.)
  const carried = replacing ? [] : extras.filter((o) => !isAfter(o.anchor)).flatMap((o) => o.values);
  const ours = (value: string) => !provided.has(family.same(value));

  const list = dedupe(
    [...[family.base].filter(ours), ...fromPlain, ...carried.filter(ours), ...wanted.filter(ours)],
    family.same,
  );

  if (replacing) {
    const first = parsed[at] as Extract<NixConfLine, { kind: 'setting' }>;
    const unchanged = plainLines.length === 1 && first.key === family.modern && sameList(first.values, list);
    if (!unchanged) {
      edits.replace.set(at, renderSetting(family.modern, list, first));
      for (const index of plainLines.slice(1)) edits.remove.add(index);
    }
  } else if (at < parsed.length) {
    const before = edits.insertBefore.get(at) ?? [];
    before.push(renderSetting(family.modern, list));
    edits.insertBefore.set(at, before);
  } else {
    edits.append.push(renderSetting(family.modern, list));
  }
}

/** One `netrc-file = path` line: the last existing one is set in place, others dropped; else appended. */
function planNetrcFile(path: string, parsed: NixConfLine[], edits: Edits): void {
  const lines = parsed.flatMap((line, index) => (line.kind === 'setting' && line.key === 'netrc-file' ? [index] : []));
  const last = lines.pop();
  for (const index of lines) edits.remove.add(index);
  if (last === undefined) {
    edits.append.push(renderSetting('netrc-file', [path]));
    return;
  }
  const line = parsed[last] as Extract<NixConfLine, { kind: 'setting' }>;
  if (!sameList(line.values, [path])) edits.replace.set(last, renderSetting('netrc-file', [path], line));
}

function applyEdits(lines: string[], finalNewline: boolean, edits: Edits): string {
  const out: string[] = [];
  lines.forEach((line, index) => {
    out.push(...(edits.insertBefore.get(index) ?? []));
    if (edits.remove.has(index)) return;
    out.push(edits.replace.get(index) ?? line);
  });
  out.push(...edits.append);
  const changed = edits.append.length > 0 || edits.insertBefore.size > 0 || edits.remove.size > 0 || edits.replace.size > 0;
  // A file we touched ends with a newline; an untouched one keeps its bytes exactly.
  return joinLines({ lines: out, finalNewline: changed && out.length > 0 ? true : finalNewline });
}

export interface CacheToRemove {
  /** Substituter to drop (compared without trailing slashes). */
  uri: string;
  /** Drops a public key when this returns true for its key name (the part before `:`). */
  keyName: (name: string) => boolean;
}

/**
 * Removes a cache's substituter and keys from every substituter/key line of the file,
 * `extra-` lines included. A line that ends up empty is kept for `key =` (an empty list
 * differs from an unset one) and dropped for `extra-key =` (appending nothing).
 */
export function removeCacheFromNixConf(text: string, cache: CacheToRemove): { text: string; removed: boolean } {
  const file = splitLines(text);
  const edits: Edits = { replace: new Map(), remove: new Set(), insertBefore: new Map(), append: [] };
  const target = SUBSTITUTERS.same(cache.uri);
  file.lines.forEach((raw, index) => {
    const line = parseNixConfLine(raw);
    if (line.kind !== 'setting') return;
    let keep: (value: string) => boolean;
    let family: Family;
    if (SUBSTITUTERS.plain.includes(line.key) || SUBSTITUTERS.extra.includes(line.key)) {
      family = SUBSTITUTERS;
      keep = (value) => SUBSTITUTERS.same(value) !== target;
    } else if (PUBLIC_KEYS.plain.includes(line.key) || PUBLIC_KEYS.extra.includes(line.key)) {
      family = PUBLIC_KEYS;
      keep = (value) => !cache.keyName(value.slice(0, Math.max(0, value.lastIndexOf(':'))));
    } else {
      return;
    }
    const values = line.values.filter(keep);
    if (values.length === line.values.length) return;
    if (family.extra.includes(line.key) && values.length === 0) edits.remove.add(index);
    else edits.replace.set(index, renderSetting(line.key, values, line));
  });
  const removed = edits.replace.size > 0 || edits.remove.size > 0;
  return { text: removed ? applyEdits(file.lines, file.finalNewline, edits) : text, removed };
}

function dedupe(values: readonly string[], same: (value: string) => string): string[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const id = same(value);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
