/**
 * Real store paths without nixpkgs or network (a TypeScript port of
 * shared/scripts/make-test-closure.sh): builders are `/bin/sh -c` scripts, so this needs
 * the config of scripts/install-nix.sh (sandbox off, empty build-users-group).
 */
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanNixEnv, runOk } from './run.js';

export interface TestClosure {
  /** cachix-test-top: input-addressed, with a self-reference; the root of the closure. */
  top: string;
  /** The large path (only with bigMB); NOT part of the small closure. */
  big?: string;
  /** `nix-store -qR top`: all 7 paths, references first. */
  paths: string[];
  salt: string;
}

export interface TestClosureOptions {
  /** Same salt, same store paths. Default: a fresh random salt (paths no cache has seen). */
  salt?: string;
  /** Also build a separate path of this many MiB (random, counting text, base64, zeros). */
  bigMB?: number;
  /** Keep results alive against GC with symlinks DIR/cachix-test-top (and -big). */
  gcRootDir?: string;
}

const SALT_RE = /^[A-Za-z0-9._+-]+$/;

export function uniqueSalt(): string {
  return `u${Date.now()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * The closure (nix-store -qR top):
 *   top   dir, share/{link-path,greeting-path,self-path (self-reference)} -> link, greeting
 *   link  the output itself is a symlink -> tool
 *   tool  bin/cachix-test-tool (executable), bin/tool-alias (relative symlink) -> lib
 *   lib   nested dirs, empty dir, empty file, relative symlink, 109 kB text -> data, src
 *   data  a single regular file
 *   src   builtins.path: content-addressed (CA fixed:r:sha256) — Nix accepts it unsigned
 *   greeting  builtins.toFile: content-addressed (CA text:sha256)
 */
const HERE = dirname(fileURLToPath(import.meta.url));

async function writeSourceTree(dir: string, salt: string): Promise<void> {
  const src = join(dir, 'src');
  await mkdir(join(src, 'sub', 'empty-dir'), { recursive: true });
  await writeFile(join(src, 'run.sh'), `#!/bin/sh\necho "src tree ${salt}"\n`);
  await chmod(join(src, 'run.sh'), 0o755);
  await symlink('run.sh', join(src, 'run-link'));
  await writeFile(join(src, 'sub', 'empty-file'), '');
  await writeFile(join(src, 'sub', 'README'), `readme for ${salt}\n`);
  await chmod(join(src, 'sub', 'README'), 0o644);
  await chmod(join(src, 'sub', 'empty-file'), 0o644);
  await copyFile(join(HERE, 'test-closure.nix'), join(dir, 'default.nix'));
}

export async function makeTestClosure(options: TestClosureOptions = {}): Promise<TestClosure> {
  const salt = options.salt ?? uniqueSalt();
  if (!SALT_RE.test(salt)) throw new Error(`makeTestClosure: salt may use A-Z a-z 0-9 . _ + - only: ${salt}`);
  const bigMB = options.bigMB ?? 0;
  if (!Number.isInteger(bigMB) || bigMB < 0) throw new Error('makeTestClosure: bigMB must be a non-negative integer');
  const work = await mkdtemp(join(tmpdir(), 'cachix-closure-'));
  try {
    await writeSourceTree(work, salt);
    // Always rooted (by default in a per-closure temp dir): another test, or anything else on
    // the machine, running the garbage collector must not pull the closure from under a test.
    const rootDir = options.gcRootDir ?? (await mkdtemp(join(tmpdir(), `cachix-roots-${salt}-`)));
    const build = async (attr: string, linkName: string): Promise<string> => {
      const out = ['-o', join(rootDir, linkName)];
      await mkdir(rootDir, { recursive: true });
      const stdout = await runOk('nix-build', [work, '-A', attr, '--argstr', 'salt', salt, '--argstr', 'bigMB', String(bigMB), ...out], {
        env: cleanNixEnv(),
      });
      return stdout.trim().split('\n').pop()!;
    };
    const top = await build('top', 'cachix-test-top');
    const paths = (await runOk('nix-store', ['--query', '--requisites', top])).trim().split('\n');
    const closure: TestClosure = { top, paths, salt };
    if (bigMB > 0) closure.big = await build('big', 'cachix-test-big');
    return closure;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A fresh closure's sources and the `nix-build` arguments that build its top path, for tests
 * that run the build themselves (under watch-exec, or while watch-store runs). The result is
 * GC-rooted in `rootDir`; `cleanup()` removes the sources (not the root).
 */
export async function prepareTestClosureBuild(salt: string = uniqueSalt()): Promise<{ salt: string; args: string[]; rootDir: string; cleanup(): Promise<void> }> {
  if (!SALT_RE.test(salt)) throw new Error(`prepareTestClosureBuild: salt may use A-Z a-z 0-9 . _ + - only: ${salt}`);
  const work = await mkdtemp(join(tmpdir(), 'cachix-closure-'));
  await writeSourceTree(work, salt);
  const rootDir = await mkdtemp(join(tmpdir(), `cachix-roots-${salt}-`));
  const args = [work, '-A', 'top', '--argstr', 'salt', salt, '--argstr', 'bigMB', '0', '-o', join(rootDir, 'cachix-test-top')];
  return { salt, args, rootDir, cleanup: () => rm(work, { recursive: true, force: true }) };
}

export interface ManyTinyPathsOptions {
  /**
   * 'added' (default): `nix-store --add` of n small files in one call — ~0.3 s for 1,000,
   * content-addressed (Nix accepts them unsigned). 'built': n derivation outputs from one
   * nix-build — input-addressed (signatures matter) but ~20 s for 1,000 on 2 cores.
   */
  kind?: 'added' | 'built';
}

/** n tiny, distinct store paths (sorted). The salt makes them new to every cache. */
export async function makeManyTinyPaths(n: number, salt: string = uniqueSalt(), options: ManyTinyPathsOptions = {}): Promise<string[]> {
  if (!SALT_RE.test(salt)) throw new Error(`makeManyTinyPaths: salt may use A-Z a-z 0-9 . _ + - only: ${salt}`);
  if (!Number.isInteger(n) || n < 1) throw new Error('makeManyTinyPaths: n must be a positive integer');
  const work = await mkdtemp(join(tmpdir(), 'cachix-tiny-'));
  try {
    let stdout: string;
    if ((options.kind ?? 'added') === 'added') {
      const files: string[] = [];
      for (let i = 0; i < n; i++) {
        const file = join(work, `cachix-tiny-${salt}-${i}`);
        await writeFile(file, `tiny path ${i} of ${n}, salt ${salt}\n`);
        files.push(file);
      }
      stdout = await runOk('nix-store', ['--add', ...files], { env: cleanNixEnv() });
    } else {
      await copyFile(join(HERE, 'tiny-paths.nix'), join(work, 'default.nix'));
      stdout = await runOk('nix-build', [work, '--arg', 'n', String(n), '--argstr', 'salt', salt, '--no-out-link'], { env: cleanNixEnv() });
    }
    return stdout.trim().split('\n').sort();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
