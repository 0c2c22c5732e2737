import { lstat, readlink, realpath } from 'node:fs/promises';
import { dirname, basename, resolve } from 'node:path';
import { CachixError } from '../errors.js';
import { run, nixErrorLine } from '../util/run.js';
import { parseSha256, sha256Nix } from './base32.js';
import { DEFAULT_STORE_DIR, toplevelStorePath } from './store-path.js';

/** What the Nix database says about one store path. */
export interface PathInfo {
  path: string;
  /** `sha256:<nix base32>` */
  narHash: string;
  narSize: number;
  /** Full store paths, sorted. */
  references: string[];
  /** Full path of the .drv, when known. */
  deriver: string | undefined;
  /** Content address (`fixed:r:sha256:…`, `text:sha256:…`) of content-addressed paths. */
  ca?: string | undefined;
}

export interface ResolvedInput {
  input: string;
  storePath: string;
}

export interface RejectedInput {
  input: string;
  reason: string;
}

// Command lines stay well below ARG_MAX even for huge closures.
const ARGS_PER_CALL = 2000;
const NIX_FLAGS = ['--extra-experimental-features', 'nix-command'];

/**
 * Access to the local Nix store through its CLI. Every query is batched: the number of
 * processes spawned does not grow with the number of paths (beyond ARGS_PER_CALL).
 */
export class NixStore {
  constructor(readonly storeDir: string = process.env.NIX_STORE_DIR ?? DEFAULT_STORE_DIR) {}

  /**
   * Turns user inputs (store paths, paths inside them, symlinks like ./result) into top-level
   * store paths, drops invalid ones with a reason, and computes the closure of the rest — in as
   * few spawns as possible: `nix-store -qR` fails on any invalid path, so when it succeeds every
   * input was valid and no separate validity query is needed.
   */
  async resolveWithClosure(inputs: readonly string[]): Promise<{ resolved: ResolvedInput[]; rejected: RejectedInput[]; closure: string[] }> {
    const resolved: ResolvedInput[] = [];
    const rejected: RejectedInput[] = [];
    for (const input of inputs) {
      try {
        resolved.push({ input, storePath: await this.toStorePath(input) });
      } catch (error) {
        rejected.push({ input, reason: (error as Error).message });
      }
    }
    const unique = [...new Set(resolved.map((r) => r.storePath))];
    const fast = unique.length > 0 && unique.length <= ARGS_PER_CALL ? await run('nix-store', ['--query', '--requisites', ...unique]) : undefined;
    if (fast?.code === 0) return { resolved, rejected, closure: lines(fast.stdout) };
    const split = this.split(resolved, rejected, new Set(await this.invalidPaths(unique)));
    return { ...split, closure: await this.closure([...new Set(split.resolved.map((r) => r.storePath))]) };
  }

  private split(resolved: ResolvedInput[], rejected: RejectedInput[], invalid: Set<string>): { resolved: ResolvedInput[]; rejected: RejectedInput[] } {
    return {
      resolved: resolved.filter((r) => !invalid.has(r.storePath)),
      rejected: [...rejected, ...resolved.filter((r) => invalid.has(r.storePath)).map((r) => ({ input: r.input, reason: 'is not valid' }))],
    };
  }

  /** Follows symlinks only until the path lands in the store: a store path that is itself a link stays as it is. */
  async toStorePath(input: string): Promise<string> {
    let current = resolve(input);
    for (let hops = 0; hops < 40; hops++) {
      const top = toplevelStorePath(current, this.storeDir);
      if (top) return top;
      let stat;
      try {
        stat = await lstat(current);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(code === 'ENOENT' ? 'no such file or directory' : `cannot read it (${code})`);
      }
      if (stat.isSymbolicLink()) {
        current = resolve(dirname(current), await readlink(current));
        continue;
      }
      const parent = await realpath(dirname(current));
      const next = resolve(parent, basename(current));
      if (next === current) throw new Error(`is not in the Nix store (${this.storeDir})`);
      current = next;
    }
    throw new Error('too many levels of symbolic links');
  }

  /** The subset of `paths` that the Nix database does not hold. */
  async invalidPaths(paths: readonly string[]): Promise<string[]> {
    const invalid: string[] = [];
    for (const batch of batches(paths)) {
      const result = await run('nix-store', ['--check-validity', '--print-invalid', ...batch]);
      if (result.code !== 0) throw new CachixError(`nix-store --check-validity failed: ${nixErrorLine(result.stderr)}`);
      invalid.push(...lines(result.stdout));
    }
    return invalid;
  }

  /** All paths of the closure of `paths` (references only, as computeFSClosure), references before referrers. */
  async closure(paths: readonly string[]): Promise<string[]> {
    if (paths.length === 0) return [];
    const all = new Set<string>();
    for (const batch of batches(paths)) {
      const result = await run('nix-store', ['--query', '--requisites', ...batch]);
      if (result.code !== 0) throw new CachixError(`cannot compute the closure: ${nixErrorLine(result.stderr)}`);
      for (const line of lines(result.stdout)) all.add(line);
    }
    return [...all];
  }

  /** Metadata of many paths with one `nix path-info --json` per batch. */
  async pathInfos(paths: readonly string[]): Promise<Map<string, PathInfo>> {
    const infos = new Map<string, PathInfo>();
    for (const batch of batches(paths)) {
      const result = await run('nix', [...NIX_FLAGS, 'path-info', '--json', ...batch]);
      if (result.code !== 0) throw new CachixError(`cannot read store path metadata: ${nixErrorLine(result.stderr)}`);
      for (const info of parsePathInfoJson(result.stdout, this.storeDir)) infos.set(info.path, info);
    }
    for (const path of paths) {
      if (!infos.has(path)) throw new CachixError(`${path} is not valid in the Nix store (garbage-collected?)`);
    }
    return infos;
  }
}

interface RawPathInfo {
  path?: string;
  narHash?: unknown;
  narSize?: number;
  references?: string[];
  deriver?: string | null;
  ca?: unknown;
  valid?: boolean;
}

/**
 * Parses `nix path-info --json` from any Nix: an array of objects with `path` (Nix <= 2.18),
 * or an object keyed by path (>= 2.19, where invalid paths map to null), or the
 * `{version, storeDir, info}` envelope of the newest versions. Hashes may be SRI or
 * `sha256:<base32>`; references may be full paths or base names.
 */
export function parsePathInfoJson(text: string, storeDir: string = DEFAULT_STORE_DIR): PathInfo[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CachixError('nix path-info printed something that is not JSON');
  }
  let entries: [string | undefined, RawPathInfo | null][];
  if (Array.isArray(parsed)) {
    entries = (parsed as RawPathInfo[]).map((e) => [e.path, e]);
  } else if (parsed && typeof parsed === 'object') {
    const obj = parsed as Record<string, unknown>;
    const map = (obj.info && typeof obj.info === 'object' ? obj.info : obj) as Record<string, RawPathInfo | null>;
    entries = Object.entries(map).map(([k, v]) => [k.includes('/') ? k : `${storeDir}/${k}`, v]);
  } else {
    throw new CachixError('nix path-info printed JSON of an unexpected shape');
  }
  const full = (p: string): string => (p.startsWith('/') ? p : `${storeDir}/${p}`);
  const out: PathInfo[] = [];
  for (const [path, raw] of entries) {
    if (!path || !raw || raw.valid === false || raw.narHash === undefined) continue;
    out.push({
      path,
      narHash: sha256Nix(parseSha256(narHashText(raw.narHash))),
      narSize: Number(raw.narSize),
      references: (raw.references ?? []).map(full).sort(),
      deriver: raw.deriver ? full(raw.deriver) : undefined,
      // Newer Nix prints a structured content address; only the classic string form is carried on.
      ...(typeof raw.ca === 'string' && raw.ca !== '' ? { ca: raw.ca } : {}),
    });
  }
  return out;
}

function narHashText(value: unknown): string {
  if (typeof value === 'string') return value;
  // Structured hash of newer Nix: { algorithm: "sha256", format: "base64", hash: "..." }
  const v = value as { algorithm?: string; hash?: string };
  if (v && v.algorithm === 'sha256' && typeof v.hash === 'string') return `sha256-${v.hash}`;
  throw new CachixError('nix path-info printed a narHash in an unknown format');
}

function* batches<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += ARGS_PER_CALL) yield items.slice(i, i + ARGS_PER_CALL);
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}
