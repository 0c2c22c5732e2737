/**
 * Issue 8, end to end: a local binary cache in a directory (`file:///dir`), with no token and
 * no server. Keys come from `generate-keypair file:///dir`; real Nix is the judge of every
 * push, including one killed mid-NAR and two racing into the same directory.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPublicKeyNix, generateSecretKey, parseSecretKey } from '../../src/nix/keys.js';
import { isolatedEnv, runCli, type CliResult } from '../support/cli.js';
import { describeNix } from '../support/nix/available.js';
import { makeTestClosure, prepareTestClosureBuild, type TestClosure } from '../support/nix/closure.js';
import { runOk } from '../support/nix/run.js';
import { makeTempStore, removeStore, substituteInto, substituteWithUserConf, verifyStore } from '../support/nix/substitute.js';
import { danglingNarinfos, missingReferences, readNarinfos, storeHash, tempFiles } from './helpers/cache-dir.js';
import { makeConfigFile, removeConfigFiles, type ConfigFile } from './helpers/config-file.js';
import { expectNixAccepts, expectNixRefusesSignature, nix, pathInfo } from './helpers/nix-judge.js';

/** Nothing listens here: a local cache must never need the Cachix server. */
const DEAD_HOST = 'http://127.0.0.1:9';

async function cli(
  config: ConfigFile,
  args: string[],
  options: { onSpawn?: (child: ChildProcess) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const { env, ...rest } = options;
  return runCli(['--host', DEAD_HOST, '-c', config.path, ...args], { env: await isolatedEnv(env), ...rest });
}

/** Temp directories of this file (cache directories hold up to ~100 MB each), removed in afterAll. */
const scratch: string[] = [];

async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** A fresh cache directory (not yet created: the CLI must create it) and its URL. */
async function freshCacheDir(): Promise<{ dir: string; url: string }> {
  const parent = await scratchDir('cachix-local-');
  const dir = join(parent, 'bincache');
  return { dir, url: `file://${dir}` };
}

/** generate-keypair for `url` into a new config; returns the config and the Nix public key. */
async function keyedConfig(url: string): Promise<{ config: ConfigFile; publicKey: string }> {
  const config = await makeConfigFile();
  const generated = await cli(config, ['generate-keypair', url]);
  expect(generated.stderr).toBe('');
  expect(generated.code).toBe(0);
  const entry = (await config.read()).binaryCaches.find((c) => c.name === url);
  expect(entry).toBeDefined();
  const key = parseSecretKey(entry!.secretKey, 'test');
  expect(key.name).toBe('bincache-1');
  const publicKey = formatPublicKeyNix(key.publicKey, key.name!);
  // The guidance shows exactly the key Nix has to trust.
  expect(generated.stdout).toContain(publicKey);
  return { config, publicKey };
}

/**
 * Runs a push and sends `signal` once a NAR is being written (a temp file exists) and at
 * least one narinfo is published, so the interruption lands mid-push, not before or after.
 */
async function pushAndSignalMidNar(config: ConfigFile, args: string[], dir: string, signal: NodeJS.Signals): Promise<CliResult> {
  let child: ChildProcess | undefined;
  const running = cli(config, args, { onSpawn: (c) => (child = c) });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const narinfos = await readdir(dir).then(
      (names) => names.filter((n) => n.endsWith('.narinfo')),
      () => [],
    );
    if ((await tempFiles(dir)).some((n) => n.startsWith('nar/')) && narinfos.length > 0) break;
    if (Date.now() > deadline) {
      child?.kill('SIGKILL');
      throw new Error(`the push never got to writing a NAR: ${JSON.stringify(await running)}`);
    }
    await sleep(25);
  }
  child!.kill(signal);
  return running;
}

describeNix('local directory caches (file:///dir) judged by real Nix', () => {
  afterAll(async () => {
    await Promise.all(scratch.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    await removeConfigFiles();
  });

  describe('generate-keypair + push of a small closure', () => {
    let closure: TestClosure;
    let cache: { dir: string; url: string };
    let publicKey: string;
    let pushed: CliResult;

    beforeAll(async () => {
      closure = await makeTestClosure();
      cache = await freshCacheDir();
      let config: ConfigFile;
      ({ config, publicKey } = await keyedConfig(cache.url));
      pushed = await cli(config, ['push', cache.url, closure.top]);
    });

    it('pushes every path of the closure with no token and no server; nix-cache-info is written on first use', async () => {
      expect(pushed.stderr).toContain(`Pushing ${closure.paths.length} paths (0 are already present) using zstd to ${cache.url}`);
      expect(pushed.stderr).not.toContain('Warning');
      expect(pushed.code).toBe(0);
      const narinfos = await readNarinfos(cache.dir);
      expect(narinfos.map((n) => n.hash)).toEqual(closure.paths.map(storeHash).sort());
      expect(narinfos.every((n) => n.info.sigs.length === 1 && n.info.sigs[0]!.startsWith('bincache-1:'))).toBe(true);
      expect(await danglingNarinfos(cache.dir)).toEqual([]);
      expect(await tempFiles(cache.dir)).toEqual([]);

      const info = await readFile(join(cache.dir, 'nix-cache-info'), 'utf8');
      const fields = new Map(info.trim().split('\n').map((l) => l.split(': ') as [string, string]));
      expect(fields.get('StoreDir')).toBe('/nix/store');
      expect(fields.get('WantMassQuery')).toBe('1');
      expect(Number(fields.get('Priority'))).toBeGreaterThan(0);
    });

    it('nix-store -r into a throw-away store accepts every path with the generated key', async () => {
      const store = await makeTempStore();
      try {
        const result = await substituteInto(store, [closure.top], { substituter: cache.url, publicKeys: [publicKey] });
        expect(result.code).toBe(0);
        for (const path of closure.paths) expect(result.stderr).toContain(`copying path '${path}' from '${cache.url}'`);
        expect((await verifyStore(store)).code).toBe(0);
      } finally {
        await removeStore(store);
      }
    });

    it('refuses the input-addressed top path when only another key (even with the same name) is trusted', async () => {
      await expectNixRefusesSignature(cache.url, closure.top, [formatPublicKeyNix(generateSecretKey().publicKey, 'bincache-1')]);
    });

    it('nix copy --from the directory into another store accepts the closure', async () => {
      const store = await makeTempStore();
      try {
        const result = await nix(['copy', '--from', cache.url, '--to', `local?root=${store}`, '--option', 'trusted-public-keys', publicKey, closure.top]);
        expect(result.stderr).not.toMatch(/error/);
        expect(result.code).toBe(0);
        const copied = await nix(['path-info', '--store', `local?root=${store}`, '-r', closure.top]);
        expect(copied.stdout.trim().split('\n').sort()).toEqual([...closure.paths].sort());
      } finally {
        await removeStore(store);
      }
    });

    it('nix path-info on the cache agrees with the local store on NarHash and NarSize for every path', async () => {
      const local = await pathInfo([closure.top]);
      const remote = await pathInfo([closure.top], cache.url);
      expect([...remote.keys()].sort()).toEqual([...closure.paths].sort());
      expect([...local.keys()].sort()).toEqual([...closure.paths].sort());
      for (const [path, info] of local) {
        const cached = remote.get(path)!;
        expect({ path, narHash: cached.narHash, narSize: cached.narSize, references: [...cached.references].sort() }).toEqual({
          path,
          narHash: info.narHash,
          narSize: info.narSize,
          references: [...info.references].sort(),
        });
        expect(cached.signatures).toEqual([expect.stringMatching(/^bincache-1:/)]);
      }
    });

    it('a second push finds everything present and writes nothing', async () => {
      const config = await makeConfigFile();
      // No key: the warning is about signing, but nothing is pushed anyway.
      const before = (await readdir(join(cache.dir, 'nar'))).sort();
      const again = await cli(config, ['push', cache.url, closure.top]);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain('Nothing to push');
      expect((await readdir(join(cache.dir, 'nar'))).sort()).toEqual(before);
    });
  });

  it('a second generate-keypair for the same directory (any spelling) is refused in one line; config untouched', async () => {
    const cache = await freshCacheDir();
    const { config } = await keyedConfig(cache.url);
    const before = await config.bytes();
    for (const spelling of [cache.url, `${cache.url}/`, cache.dir]) {
      const again = await cli(config, ['generate-keypair', spelling]);
      expect(again.code).toBe(1);
      expect(again.stdout).toBe('');
      expect(again.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^cachix: .*already holds a signing key for ${escape(cache.url)}`))]);
    }
    expect((await config.bytes()).equals(before)).toBe(true);
    expect(await config.siblings()).toEqual(['cachix.dhall']);
  });

  it('CACHIX_SIGNING_KEY in bare base64 (no key name) signs under the name generate-keypair gave the key', async () => {
    const closure = await makeTestClosure();
    const cache = await freshCacheDir();
    const { config, publicKey } = await keyedConfig(cache.url);
    const secret = (await config.read()).binaryCaches[0]!.secretKey;
    const bare = secret.slice(secret.lastIndexOf(':') + 1);
    // A config without the entry: the key comes only from the environment, as on CI.
    const pushed = await cli(await makeConfigFile(), ['push', cache.url, closure.top], { env: { CACHIX_SIGNING_KEY: bare } });
    expect(pushed.code).toBe(0);
    expect(pushed.stderr).not.toContain(bare);
    expect((await readNarinfos(cache.dir)).every((n) => n.info.sigs.length === 1 && n.info.sigs[0]!.startsWith('bincache-1:'))).toBe(true);
    await expectNixAccepts(cache.url, [closure.top], [publicKey]);
  });

  it('without a key the push warns and writes unsigned narinfos, which Nix refuses for input-addressed paths', async () => {
    const closure = await makeTestClosure();
    const cache = await freshCacheDir();
    const pushed = await cli(await makeConfigFile(), ['push', cache.url, closure.top]);
    expect(pushed.code).toBe(0);
    expect(pushed.stderr).toContain(`Warning: no signing key for ${cache.url}`);
    expect((await readNarinfos(cache.dir)).every((n) => n.info.sigs.length === 0)).toBe(true);
    await expectNixRefusesSignature(cache.url, closure.top, [formatPublicKeyNix(generateSecretKey().publicKey, 'bincache-1')]);
  });

  it('a directory that cannot be created is one line and exit 1 (no hang under /proc, no stack trace)', async () => {
    const closure = await makeTestClosure();
    const file = join(await scratchDir('cachix-local-'), 'a-file');
    await writeFile(file, '');
    // Under /proc mkdir keeps failing with ENOENT: Node's recursive mkdir would spin forever there.
    for (const [dir, code] of [[`/proc/cachix-test-${process.pid}/cache`, 'ENOENT'], [join(file, 'cache'), 'ENOTDIR']] as const) {
      let watchdog: NodeJS.Timeout | undefined;
      const result = await cli(await makeConfigFile(), ['push', `file://${dir}`, closure.paths[0]!], {
        // A regression would spin forever: kill it rather than leave it behind.
        onSpawn: (child) => (watchdog = setTimeout(() => child.kill('SIGKILL'), 15_000)),
      });
      clearTimeout(watchdog);
      expect(result.signal).toBeNull();
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n').filter((l) => l.startsWith('cachix:'))).toEqual([`cachix: cannot use ${dir} as a binary cache: ${code}`]);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('keeps an existing nix-cache-info (e.g. written by nix copy) as it is', async () => {
    const closure = await makeTestClosure();
    const cache = await freshCacheDir();
    await mkdir(cache.dir, { recursive: true });
    await writeFile(join(cache.dir, 'nix-cache-info'), 'StoreDir: /nix/store\nPriority: 55\n');
    const { config, publicKey } = await keyedConfig(cache.url);
    const pushed = await cli(config, ['push', cache.url, closure.paths[0]!]);
    expect(pushed.code).toBe(0);
    expect(await readFile(join(cache.dir, 'nix-cache-info'), 'utf8')).toBe('StoreDir: /nix/store\nPriority: 55\n');
    await expectNixAccepts(cache.url, [closure.paths[0]!], [publicKey]);
  });

  it('a push killed mid-NAR leaves no narinfo without its NAR; a re-run completes and Nix accepts everything', async () => {
    const closure = await makeTestClosure({ bigMB: 200 });
    const big = closure.big!;
    const cache = await freshCacheDir();
    const { config, publicKey } = await keyedConfig(cache.url);

    // xz -6 on 200 MiB takes a minute here: long enough to be sure the kill lands mid-NAR.
    const result = await pushAndSignalMidNar(config, ['push', '-m', 'xz', '-l', '6', cache.url, closure.top, big], cache.dir, 'SIGKILL');
    expect(result.signal).toBe('SIGKILL');
    // The kill landed while a NAR was being written (its temp file is all that is left of it).
    expect((await tempFiles(cache.dir)).some((n) => n.startsWith('nar/'))).toBe(true);

    const partial = await readNarinfos(cache.dir);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.map((n) => n.hash)).not.toContain(storeHash(big));
    expect(await danglingNarinfos(cache.dir)).toEqual([]);
    // References are published before their referrers, so even the killed push left a closed cache.
    expect(await missingReferences(cache.dir)).toEqual([]);

    // zstd for the re-run: the point is that the half-done directory is picked up, not the speed of xz.
    const rerun = await cli(config, ['push', '-m', 'zstd', cache.url, closure.top, big]);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain(`(${partial.length} are already present)`);
    expect((await readNarinfos(cache.dir)).map((n) => n.hash)).toEqual([...closure.paths, big].map(storeHash).sort());
    expect(await danglingNarinfos(cache.dir)).toEqual([]);
    // The re-run removed the temp NAR the killed process left behind.
    const left = await tempFiles(cache.dir);
    expect(left, JSON.stringify(left)).toEqual([]);
    await expectNixAccepts(cache.url, [closure.top, big], [publicKey]);
  }, 60_000);

  it('SIGTERM mid-NAR exits 143 in one line and removes its temporary files; nothing half-published', async () => {
    const closure = await makeTestClosure({ bigMB: 200 });
    const big = closure.big!;
    const cache = await freshCacheDir();
    const { config } = await keyedConfig(cache.url);
    const result = await pushAndSignalMidNar(config, ['push', '-m', 'xz', '-l', '6', cache.url, closure.top, big], cache.dir, 'SIGTERM');
    expect(result.code).toBe(143);
    expect(result.stderr.trim().split('\n').filter((l) => l.startsWith('cachix:'))).toEqual([
      'cachix: interrupted by SIGTERM; in-flight uploads were aborted',
    ]);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await tempFiles(cache.dir)).toEqual([]);
    expect((await readNarinfos(cache.dir)).map((n) => n.hash)).not.toContain(storeHash(big));
    expect(await danglingNarinfos(cache.dir)).toEqual([]);
  }, 30_000);

  it('two pushes of overlapping closures into one directory at once both succeed; Nix accepts the result', async () => {
    const [one, two] = await Promise.all([makeTestClosure({ bigMB: 16 }), makeTestClosure()]);
    const cache = await freshCacheDir();
    const { config, publicKey } = await keyedConfig(cache.url);
    // Both include all of `one` (with its 16 MiB path) and half of `two`, in different orders.
    const first = [one.top, one.big!, two.paths[3]!];
    const second = [two.top, one.paths[2]!, one.big!, one.top];
    const [a, b] = await Promise.all([
      cli(config, ['push', '-j', '4', cache.url, ...first]),
      cli(config, ['push', '-j', '4', cache.url, ...second]),
    ]);
    expect(a.stderr).not.toMatch(/cachix:|Warning/);
    expect(b.stderr).not.toMatch(/cachix:|Warning/);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const expected = new Set([...one.paths, one.big!, ...two.paths].map(storeHash));
    expect((await readNarinfos(cache.dir)).map((n) => n.hash)).toEqual([...expected].sort());
    expect(await danglingNarinfos(cache.dir)).toEqual([]);
    expect(await tempFiles(cache.dir)).toEqual([]);
    await expectNixAccepts(cache.url, [one.top, one.big!, two.top], [publicKey]);
  });

  it('watch-exec pushes what a build makes into a directory cache, with no server; Nix accepts it', async () => {
    const cache = await freshCacheDir();
    const { config, publicKey } = await keyedConfig(cache.url);
    const build = await prepareTestClosureBuild();
    try {
      const result = await cli(config, ['watch-exec', cache.url, 'nix-build', ...build.args]);
      expect(result.code, result.stderr).toBe(0);
      const top = result.stdout.trim().split('\n').pop()!;
      expect(result.stderr).toMatch(/(^|\n)Done\.\n$/);
      const closure = (await runOk('nix-store', ['--query', '--requisites', top])).trim().split('\n');
      const pushed = new Set((await readNarinfos(cache.dir)).map((n) => n.hash));
      for (const path of closure) expect(pushed.has(storeHash(path)), path).toBe(true);
      expect(await danglingNarinfos(cache.dir)).toEqual([]);
      expect(await missingReferences(cache.dir)).toEqual([]);
      await expectNixAccepts(cache.url, [top], [publicKey]);
    } finally {
      await build.cleanup();
    }
  });

  it('cachix use file:///dir -O writes a nix.conf with which plain Nix substitutes (no --option flags)', async () => {
    const closure = await makeTestClosure();
    const cache = await freshCacheDir();
    const { config, publicKey } = await keyedConfig(cache.url);
    expect((await cli(config, ['push', cache.url, closure.top])).code).toBe(0);

    const out = await scratchDir('cachix-use-out-');
    const used = await cli(config, ['use', cache.url, '-O', out]);
    expect(used.stderr).toBe('');
    expect(used.code).toBe(0);
    const confFile = join(out, 'nix.conf');
    const conf = await readFile(confFile, 'utf8');
    expect(conf).toMatch(new RegExp(`^(extra-)?substituters = .*${escape(cache.url)}`, 'm'));
    expect(conf).toMatch(new RegExp(`^(extra-)?trusted-public-keys = .*${escape(publicKey)}`, 'm'));
    // A public local cache needs no credentials.
    expect(await readdir(out)).toEqual(['nix.conf']);

    const store = await makeTempStore();
    try {
      const result = await substituteWithUserConf(store, [closure.top], confFile);
      // `use` always lists cache.nixos.org first (as the real client does); with no network
      // here Nix only warns about it (after ~5 s of retries) and moves on to the local cache.
      const complaints = result.stderr.split('\n').filter((l) => /error|warning|not signed/.test(l));
      expect(complaints.filter((l) => !l.includes('https://cache.nixos.org/') && !l.includes("'--add-root'"))).toEqual([]);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`copying path '${closure.top}' from '${cache.url}'`);
    } finally {
      await removeStore(store);
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
