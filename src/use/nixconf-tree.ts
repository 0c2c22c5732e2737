import { dirname, isAbsolute, resolve } from 'node:path';
import { CachixError } from '../errors.js';
import { parseNixConfLine, splitLines } from './nixconf-line.js';

/** Reads a file's text; undefined when it does not exist. Injected so tests need no disk. */
export type ReadText = (path: string) => Promise<string | undefined>;

/** One `key = values` setting met while reading a nix.conf and everything it includes. */
export interface ConfSetting {
  key: string;
  values: string[];
  /** The file the line is in. */
  file: string;
  /** Index of the line of the root file that brought this setting in (itself, or its include line). */
  anchor: number;
  /** True when the line is in the root file itself rather than in an included file. */
  inRoot: boolean;
}

/**
 * Every setting of `rootPath` and the files it includes, in the order Nix applies them
 * (an include is read at the position of its line). Paths are relative to the including
 * file. A missing root file is empty; a missing `include` is an error (as in Nix), a
 * missing `!include` is skipped; a cycle is an error (Nix itself crashes on one).
 */
export async function readConfTree(rootPath: string, read: ReadText): Promise<ConfSetting[]> {
  const settings: ConfSetting[] = [];
  const rootText = await read(rootPath);
  if (rootText === undefined) return settings;
  await collect(rootPath, rootText, [rootPath], undefined, settings, read);
  return settings;
}

async function collect(
  file: string,
  text: string,
  chain: string[],
  rootAnchor: number | undefined,
  out: ConfSetting[],
  read: ReadText,
): Promise<void> {
  const { lines } = splitLines(text);
  for (let index = 0; index < lines.length; index++) {
    const line = parseNixConfLine(lines[index]!);
    const anchor = rootAnchor ?? index;
    if (line.kind === 'invalid') {
      throw new CachixError(`${file}:${index + 1} is not a valid nix.conf line: ${lines[index]!.trim().slice(0, 80)}`, {
        hint: 'Nix itself rejects this file ("illegal configuration line"); fix or remove that line first',
      });
    }
    if (line.kind === 'setting') {
      out.push({ key: line.key, values: line.values, file, anchor, inRoot: rootAnchor === undefined });
    } else if (line.kind === 'include') {
      const target = isAbsolute(line.path) ? line.path : resolve(dirname(file), line.path);
      if (chain.includes(target)) {
        throw new CachixError(`nix.conf include cycle: ${[...chain, target].join(' -> ')}`, {
          hint: 'remove one of these include lines; Nix cannot read this configuration either',
        });
      }
      const included = await read(target);
      if (included === undefined) {
        if (line.optional) continue;
        throw new CachixError(`file ${target} included from ${file} not found`, {
          hint: 'create it, remove the include line, or write `!include` to make it optional',
        });
      }
      await collect(target, included, [...chain, target], anchor, out, read);
    }
  }
}

/** The last value Nix would use for a single-valued setting, or undefined when unset. */
export function lastSetting(settings: readonly ConfSetting[], key: string): ConfSetting | undefined {
  for (let i = settings.length - 1; i >= 0; i--) if (settings[i]!.key === key) return settings[i];
  return undefined;
}

/**
 * A list setting's value as Nix computes it: `key = …` replaces, `extra-key = …` appends.
 * Used for `trusted-users`; `fallback` is Nix's default when nothing sets it.
 */
export function effectiveList(settings: readonly ConfSetting[], key: string, fallback: readonly string[]): string[] {
  let value = [...fallback];
  for (const s of settings) {
    if (s.key === key) value = [...s.values];
    else if (s.key === `extra-${key}`) value.push(...s.values);
  }
  return value;
}
