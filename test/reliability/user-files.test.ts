/**
 * User files (nix.conf, netrc, NixOS modules, the config) are replaced atomically: a
 * failure at any point leaves the original byte-identical and no temp file behind. A
 * symlinked nix.conf is edited through its target or refused, never replaced by a file.
 */
import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { itNix } from '../support/nix/available.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { homeWithToken, type TestHome } from './support/home.js';
import { expectNoStackTrace, nonEmptyLines } from './support/output.js';
import { snapshotTree } from './support/snapshot.js';

const TOKEN = 'tok-userfiles-1a2b3c4d';
const ORIGINAL_CONF = '# my settings\nmax-jobs = 4   # keep this comment\n\nextra-experimental-features = nix-command\n';
const ORIGINAL_NETRC = 'machine example.org\nlogin me\npassword hunter2\n';

let server: StandIn;
let scratch: string;
const immutable: string[] = [];
const mounts: string[] = [];

beforeAll(async () => {
  server = await startStandIn();
  await server.addCache({ name: 'pub', publicKey: Buffer.alloc(32, 3).toString('base64') });
  await server.addCache({ name: 'priv', isPublic: false, publicKey: Buffer.alloc(32, 4).toString('base64') });
  server.addToken(TOKEN, { priv: 'Read', pub: 'Admin' });
  scratch = await mkdtemp(join(tmpdir(), 'cachix-userfiles-'));
});

afterAll(async () => {
  for (const path of immutable) execFileSync('chattr', ['-i', path], { stdio: 'ignore' });
  for (const dir of mounts) execFileSync('umount', [dir], { stdio: 'ignore' });
  await server?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function chattrImmutable(path: string): void {
  execFileSync('chattr', ['+i', path]);
  immutable.push(path);
}

async function freshDir(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(scratch, 'd-'));
  await chmod(dir, 0o755);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

function use(home: TestHome, args: string[]): Promise<CliResult> {
  return runCli(['--host', server.apiUrl, 'use', ...args], { env: home.env });
}

function expectCleanFailure(result: CliResult, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  const lines = nonEmptyLines(result.stderr);
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expectNoStackTrace(result.stderr);
}

describe('nix.conf and netrc', () => {
  it('succeeds through the CLI: unrelated lines kept byte for byte, netrc 0600', async () => {
    const home = await homeWithToken(TOKEN);
    const dir = await freshDir({ 'nix.conf': ORIGINAL_CONF, netrc: ORIGINAL_NETRC });
    const result = await use(home, ['priv', '-O', dir]);
    expect(result.code, result.stderr).toBe(0);
    const conf = await readFile(join(dir, 'nix.conf'), 'utf8');
    for (const line of ORIGINAL_CONF.split('\n').filter((l) => l !== '')) expect(conf.split('\n')).toContain(line);
    expect(conf).toContain(server.cache('priv')!.uri);
    const netrc = await readFile(join(dir, 'netrc'), 'utf8');
    expect(netrc).toContain(ORIGINAL_NETRC);
    expect(netrc).toContain(TOKEN);
    expect((await lstat(join(dir, 'netrc'))).mode & 0o777).toBe(0o600);
    expect((await snapshotTree(dir)).size).toBe(2);
  });

  const failures: { name: string; prepare: (dir: string) => Promise<void> | void; pattern: RegExp }[] = [
    { name: 'directory immutable (no temp file can be made)', prepare: (dir) => chattrImmutable(dir), pattern: /^cachix: .*(nix\.conf|netrc)/ },
    { name: 'nix.conf immutable (rename over it fails)', prepare: (dir) => chattrImmutable(join(dir, 'nix.conf')), pattern: /^cachix: .*nix\.conf/ },
    { name: 'netrc immutable (nix.conf must not be written either)', prepare: (dir) => chattrImmutable(join(dir, 'netrc')), pattern: /^cachix: .*netrc/ },
    {
      name: 'read-only tmpfs',
      prepare: (dir) => {
        // Files go into the tmpfs first, then it is made read-only.
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
        mounts.push(dir);
        execFileSync('sh', ['-c', `printf '%s' "$1" > "$3/nix.conf" && printf '%s' "$2" > "$3/netrc"`, 'sh', ORIGINAL_CONF, ORIGINAL_NETRC, dir]);
        execFileSync('mount', ['-o', 'remount,ro', dir]);
      },
      pattern: /^cachix: .*(nix\.conf|netrc|read-only)/,
    },
  ];
  for (const f of failures) {
    it(`a private cache with ${f.name}: exit 1, one line, both files byte-identical, no temp file`, async () => {
      const home = await homeWithToken(TOKEN);
      const dir = await freshDir({ 'nix.conf': ORIGINAL_CONF, netrc: ORIGINAL_NETRC });
      await f.prepare(dir);
      const before = await snapshotTree(dir);
      const result = await use(home, ['priv', '-O', dir]);
      expectCleanFailure(result, f.pattern);
      expect(await snapshotTree(dir)).toEqual(before);
      expect(await readFile(join(dir, 'nix.conf'), 'utf8')).toBe(ORIGINAL_CONF);
      expect(await readFile(join(dir, 'netrc'), 'utf8')).toBe(ORIGINAL_NETRC);
    });
  }
});

describe('symlinked nix.conf (home-manager style)', () => {
  itNix('a link into the Nix store is refused with a clear line; link and target untouched', async () => {
    // What home-manager leaves: a valid nix.conf that lives in the (read-only) Nix store.
    const src = join(await mkdtemp(join(tmpdir(), 'hm-')), 'nix.conf');
    await writeFile(src, `# generated by home-manager ${Date.now()}-${process.pid}\nmax-jobs = 4\n`);
    const storeFile = execFileSync('nix-store', ['--add', src], { encoding: 'utf8' }).trim();
    const home = await homeWithToken(TOKEN);
    const dir = await freshDir();
    await symlink(storeFile!, join(dir, 'nix.conf'));
    const storeBefore = await readFile(storeFile!);
    const result = await use(home, ['pub', '-O', dir]);
    expectCleanFailure(result, /^cachix: .*nix\.conf.*(Nix store|home-manager)/);
    expect((await lstat(join(dir, 'nix.conf'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, 'nix.conf'))).toBe(storeFile);
    expect(await readFile(storeFile!)).toEqual(storeBefore);
  });

  it('a link to a writable file is edited through the link; the link stays a link', async () => {
    const home = await homeWithToken(TOKEN);
    const dir = await freshDir();
    const realDir = await freshDir({ 'real-nix.conf': ORIGINAL_CONF });
    await symlink(join(realDir, 'real-nix.conf'), join(dir, 'nix.conf'));
    const result = await use(home, ['pub', '-O', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect((await lstat(join(dir, 'nix.conf'))).isSymbolicLink()).toBe(true);
    const edited = await readFile(join(realDir, 'real-nix.conf'), 'utf8');
    expect(edited).toContain(server.cache('pub')!.uri);
    expect(edited).toContain('max-jobs = 4   # keep this comment');
    // Nothing else appeared next to the target (no leftover temp file).
    expect([...(await snapshotTree(realDir)).keys()]).toEqual(['real-nix.conf']);
  });

  it('a link to a read-only file is refused, not replaced', async () => {
    const home = await homeWithToken(TOKEN);
    const dir = await freshDir();
    const realDir = await freshDir({ 'real-nix.conf': ORIGINAL_CONF });
    await chmod(join(realDir, 'real-nix.conf'), 0o444);
    await symlink(join(realDir, 'real-nix.conf'), join(dir, 'nix.conf'));
    const result = await use(home, ['pub', '-O', dir]);
    expectCleanFailure(result, /^cachix: .*nix\.conf.*read-only/);
    expect((await lstat(join(dir, 'nix.conf'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(realDir, 'real-nix.conf'), 'utf8')).toBe(ORIGINAL_CONF);
  });

  it('a dangling link is refused, not replaced by a regular file', async () => {
    const home = await homeWithToken(TOKEN);
    const dir = await freshDir();
    await symlink(join(dir, 'missing', 'nix.conf'), join(dir, 'nix.conf'));
    const result = await use(home, ['pub', '-O', dir]);
    expectCleanFailure(result, /^cachix: .*nix\.conf/);
    expect((await lstat(join(dir, 'nix.conf'))).isSymbolicLink()).toBe(true);
  });
});

describe('NixOS modules', () => {
  it('writes cachix.nix and cachix/pub.nix; an immutable module folder leaves both untouched', async () => {
    const home = await homeWithToken(TOKEN);
    const folder = await freshDir();
    const ok = await use(home, ['pub', '-m', 'nixos', '-d', folder]);
    expect(ok.code, ok.stderr).toBe(0);
    const module = join(folder, 'cachix', 'pub.nix');
    expect(await readFile(module, 'utf8')).toContain(server.cache('pub')!.uri);

    // Change the cache's answer (a new key), then make the module folder immutable.
    await writeFile(module, '# hand-edited\n');
    await writeFile(join(folder, 'cachix.nix'), '# glue, hand-edited\n');
    chattrImmutable(join(folder, 'cachix'));
    const before = await snapshotTree(folder);
    const failed = await use(home, ['pub', '-m', 'nixos', '-d', folder]);
    expectCleanFailure(failed, /^cachix: .*(cachix|pub\.nix)/);
    expect(await snapshotTree(folder)).toEqual(before);
  });
});

describe('the config file', () => {
  it('authtoken into an immutable config directory: exit 1, one line, config byte-identical', async () => {
    const home = await homeWithToken(TOKEN);
    const configDir = join(home.env.XDG_CONFIG_HOME!, 'cachix');
    const before = await readFile(home.configPath);
    chattrImmutable(configDir);
    const result = await runCli(['authtoken', '--stdin'], { env: home.env, input: 'tok-other-99999999\n' });
    expectCleanFailure(result, /^cachix: .*cachix\.dhall/);
    expect(await readFile(home.configPath)).toEqual(before);
    expect([...(await snapshotTree(configDir)).keys()]).toEqual(['cachix.dhall']);
  });

  it('authtoken over an immutable config file: exit 1, config byte-identical, no temp file', async () => {
    const home = await homeWithToken(TOKEN);
    const configDir = join(home.env.XDG_CONFIG_HOME!, 'cachix');
    const before = await readFile(home.configPath);
    chattrImmutable(home.configPath);
    const result = await runCli(['authtoken', '--stdin'], { env: home.env, input: 'tok-other-99999999\n' });
    expectCleanFailure(result, /^cachix: .*cachix\.dhall/);
    expect(await readFile(home.configPath)).toEqual(before);
    expect([...(await snapshotTree(configDir)).keys()]).toEqual(['cachix.dhall']);
  });

  it('generate-keypair with an immutable config: exit 1, config byte-identical', async () => {
    const home = await homeWithToken(TOKEN);
    const before = await readFile(home.configPath);
    chattrImmutable(join(home.env.XDG_CONFIG_HOME!, 'cachix'));
    const result = await runCli(['--host', server.apiUrl, 'generate-keypair', 'pub'], { env: home.env });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    expectNoStackTrace(result.stderr);
    expect(await readFile(home.configPath)).toEqual(before);
  });
});

