import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli.js';
import { run as runRemove } from '../../../src/commands/remove.js';
import { run as runUse } from '../../../src/commands/use.js';
import type { Context } from '../../../src/context.js';
import { CachixError } from '../../../src/errors.js';
import { formatSecretKeyNix, generateSecretKey, formatPublicKeyNix } from '../../../src/nix/keys.js';
import { NIXOS_CACHE as N, NIXOS_CACHE_KEY as NK } from '../../../src/use/nixconf-edit.js';
import type { UseSystem } from '../../../src/use/system.js';
import { startStandIn, type CacheHandle, type StandIn } from '../../support/standin/index.js';

/**
 * `use` and `remove` end to end, against the API stand-in, with the machine faked: a temp
 * directory stands for / (etc/nix, nix/store, run/current-system) and nix-env / id are
 * answered by the test. Nothing outside the temp directories is read or written.
 */

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let standIn: StandIn;
let pub: CacheHandle;
let priv: CacheHandle;
let priv2: CacheHandle;
const TOKEN = 'read-token-1';

beforeAll(async () => {
  standIn = await startStandIn();
  const key = (seed: number) => Buffer.alloc(32, seed).toString('base64');
  pub = await standIn.addCache({ name: 'pubcache', publicKey: `pubcache.cachix.org-1:${key(1)}` });
  priv = await standIn.addCache({ name: 'privcache', isPublic: false, publicKey: `privcache.cachix.org-1:${key(2)}` });
  priv2 = await standIn.addCache({ name: 'privcache2', isPublic: false, publicKey: `privcache2.cachix.org-1:${key(3)}` });
  standIn.addToken(TOKEN, { privcache: 'Read', privcache2: 'Read' });
});

afterAll(async () => {
  await standIn.close();
});

let tmp: string;
let root: string;
let xdg: string;
let stdout: Capture;
let stderr: Capture;
let nixVersion: string;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cachix-use-'));
  root = join(tmp, 'root');
  xdg = join(tmp, 'home/.config');
  await mkdir(join(root, 'etc/nix'), { recursive: true });
  await mkdir(join(root, 'nix/store'), { recursive: true });
  stdout = new Capture();
  stderr = new Capture();
  nixVersion = 'nix-env (Nix) 2.8.0\n';
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** hostOverride null = no --host (the config's or the default host). */
function context(env: Record<string, string>, hostOverride: string | null = standIn.apiUrl): Context {
  return {
    configPath: join(xdg, 'cachix/cachix.dhall'),
    hostOverride: hostOverride ?? undefined,
    verbose: false,
    env: { XDG_CONFIG_HOME: xdg, HOME: join(tmp, 'home'), ...env },
    stdin: new PassThrough(),
    stdout,
    stderr,
  };
}

const commands: string[][] = [];
function system(): UseSystem {
  return {
    rootDir: root,
    run: async (command, args) => {
      commands.push([command, ...args]);
      if (command === 'nix-env') return { code: 0, stdout: nixVersion, stderr: '' };
      if (command === 'id') return { code: 0, stdout: 'users\n', stderr: '' };
      throw Object.assign(new Error(`spawn ${command} ENOENT`), { code: 'ENOENT' });
    },
  };
}

const use = (env: Record<string, string>, cache: string, extra: { mode?: 'nixos' | 'root-nixconf' | 'user-nixconf'; nixosFolder?: string; outputDirectory?: string } = {}) =>
  runUse(context(env), { cache, nixosFolder: extra.nixosFolder ?? join(tmp, 'never-nixos'), mode: extra.mode, outputDirectory: extra.outputDirectory }, system());

const fail = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(CachixError);
      return error as CachixError;
    },
  );

const userConf = () => join(xdg, 'nix/nix.conf');
const globalConf = () => join(root, 'etc/nix/nix.conf');
const untrusted = async () => rm(join(root, 'nix/store'), { recursive: true });

describe('cachix use', () => {
  it('user-nixconf: a trusted user gets $XDG_CONFIG_HOME/nix/nix.conf, global substituters carried over; twice is a no-op', async () => {
    await writeFile(globalConf(), 'substituters = https://global.example\ntrusted-users = root alice\n');
    await untrusted(); // trust comes from trusted-users, not from a writable store
    expect(await use({ USER: 'alice' }, 'pubcache')).toBe(0);
    const first = await readFile(userConf(), 'utf8');
    expect(first).toBe(`substituters = ${N} https://global.example ${pub.uri}\ntrusted-public-keys = ${NK} ${pub.publicSigningKeys[0]}\n`);
    expect(stdout.text).toBe(`Configured ${pub.uri} binary cache in ${userConf()}\n`);
    expect(stderr.text).toBe('');
    expect(await use({ USER: 'alice' }, 'pubcache')).toBe(0);
    expect(await readFile(userConf(), 'utf8')).toBe(first);
    // The global file is only read.
    expect(await readFile(globalConf(), 'utf8')).toBe('substituters = https://global.example\ntrusted-users = root alice\n');
  });

  it('root-nixconf: root edits /etc/nix/nix.conf in place, keeping every other line', async () => {
    const original = '# Nix config\nbuild-users-group =\nsubstituters =\n\ntrusted-public-keys =\nrequire-sigs = true\n';
    await writeFile(globalConf(), original);
    expect(await use({ USER: 'root' }, 'pubcache')).toBe(0);
    expect(await readFile(globalConf(), 'utf8')).toBe(
      `# Nix config\nbuild-users-group =\nsubstituters = ${N} ${pub.uri}\n\ntrusted-public-keys = ${NK} ${pub.publicSigningKeys[0]}\nrequire-sigs = true\n`,
    );
    expect(stdout.text).toBe(`Configured ${pub.uri} binary cache in ${globalConf()}\n`);
    expect(commands).toContainEqual(['nix-env', '--version']);
  });

  it('custom: -O DIR writes DIR/nix.conf (parents created) and leaves /etc alone', async () => {
    await writeFile(globalConf(), 'substituters = https://global.example\n');
    const out = join(tmp, 'out/deep');
    expect(await use({ USER: 'root' }, 'pubcache', { outputDirectory: out })).toBe(0);
    expect(await readFile(join(out, 'nix.conf'), 'utf8')).toBe(`substituters = ${N} ${pub.uri}\ntrusted-public-keys = ${NK} ${pub.publicSigningKeys[0]}\n`);
    expect(await readFile(globalConf(), 'utf8')).toBe('substituters = https://global.example\n');
    expect(stdout.text).toBe(`Configured ${pub.uri} binary cache in ${join(out, 'nix.conf')}\n`);
  });

  it('nixos: root on NixOS writes cachix.nix and cachix/<name>.nix into -d and prints the instructions', async () => {
    await mkdir(join(root, 'run/current-system'), { recursive: true });
    await writeFile(join(root, 'run/current-system/nixos-version'), '24.05\n');
    const folder = join(tmp, 'nixos');
    expect(await use({ USER: 'root' }, 'pubcache', { nixosFolder: folder })).toBe(0);
    expect(await readFile(join(folder, 'cachix/pubcache.nix'), 'utf8')).toContain(`"${pub.uri}"`);
    expect(await readFile(join(folder, 'cachix/pubcache.nix'), 'utf8')).toContain(`"${pub.publicSigningKeys[0]}"`);
    expect(await readFile(join(folder, 'cachix.nix'), 'utf8')).toContain('folder = ./cachix;');
    expect(stdout.text).toContain(`imports = [ ./cachix.nix ];`);
    expect(stdout.text).toContain(join(folder, 'configuration.nix'));
    await expect(stat(globalConf())).rejects.toThrow(); // no nix.conf written
  });

  it('nixos, private cache: credentials go to the global /etc/nix/netrc', async () => {
    await mkdir(join(root, 'run/current-system'), { recursive: true });
    await writeFile(join(root, 'run/current-system/nixos-version'), '24.05\n');
    const folder = join(tmp, 'nixos');
    expect(await use({ USER: 'root', CACHIX_AUTH_TOKEN: TOKEN }, 'privcache', { nixosFolder: folder })).toBe(0);
    expect(await readFile(join(root, 'etc/nix/netrc'), 'utf8')).toBe(`machine ${priv.host} login cachix password ${TOKEN}\n`);
    expect(stderr.text).toBe(`Configured private read access credentials in ${join(root, 'etc/nix/netrc')}\n`);
    expect(await readFile(join(folder, 'cachix/privcache.nix'), 'utf8')).toContain(`"${priv.uri}"`);
  });

  it('nixos: an unwritable folder is one clear error suggesting --nixos-folder', async () => {
    await writeFile(join(tmp, 'a-file'), '');
    const error = await fail(use({ USER: 'root' }, 'pubcache', { mode: 'nixos', nixosFolder: join(tmp, 'a-file') }));
    expect(error.message).toMatch(/^cannot create .*a-file\/cachix: ENOTDIR$/);
    expect(error.hint).toContain('--nixos-folder');
  });

  it('private cache, user mode: netrc beside nix.conf (0600, bare host, login) and a netrc-file line', async () => {
    expect(await use({ USER: 'alice', CACHIX_AUTH_TOKEN: TOKEN }, 'privcache')).toBe(0);
    const netrc = join(xdg, 'nix/netrc');
    expect(await readFile(netrc, 'utf8')).toBe(`machine ${priv.host} login cachix password ${TOKEN}\n`);
    expect((await stat(netrc)).mode & 0o777).toBe(0o600);
    expect(await readFile(userConf(), 'utf8')).toBe(
      `substituters = ${N} ${priv.uri}\ntrusted-public-keys = ${NK} ${priv.publicSigningKeys[0]}\nnetrc-file = ${netrc}\n`,
    );
    expect(stderr.text).toBe(`Configured private read access credentials in ${netrc}\n`);
    expect(stdout.text).not.toContain(TOKEN);

    // A second private cache goes first; the first keeps its entry.
    expect(await use({ USER: 'alice', CACHIX_AUTH_TOKEN: TOKEN }, 'privcache2')).toBe(0);
    expect(await readFile(netrc, 'utf8')).toBe(
      `machine ${priv2.host} login cachix password ${TOKEN}\n\nmachine ${priv.host} login cachix password ${TOKEN}\n`,
    );
    expect((await readFile(userConf(), 'utf8')).match(/netrc-file/g)).toHaveLength(1);
  });

  it('private cache: an existing netrc-file setting is respected (cachix#169)', async () => {
    const mine = join(tmp, 'secrets/my-netrc');
    await mkdir(join(xdg, 'nix'), { recursive: true });
    await writeFile(userConf(), `netrc-file = ${mine}\n`);
    await mkdir(join(tmp, 'secrets'));
    await writeFile(mine, 'machine git.example.com login me password pw\n');
    expect(await use({ USER: 'alice', CACHIX_AUTH_TOKEN: TOKEN }, 'privcache')).toBe(0);
    expect(await readFile(mine, 'utf8')).toBe(`machine ${priv.host} login cachix password ${TOKEN}\n\nmachine git.example.com login me password pw\n`);
    expect(await readFile(userConf(), 'utf8')).toMatch(new RegExp(`^netrc-file = ${mine}\nsubstituters = `));
    await expect(stat(join(xdg, 'nix/netrc'))).rejects.toThrow();
  });

  it('private cache, root mode: /etc/nix/netrc and no netrc-file line', async () => {
    expect(await use({ USER: 'root', CACHIX_AUTH_TOKEN: TOKEN }, 'privcache')).toBe(0);
    expect(await readFile(join(root, 'etc/nix/netrc'), 'utf8')).toBe(`machine ${priv.host} login cachix password ${TOKEN}\n`);
    expect(await readFile(globalConf(), 'utf8')).not.toContain('netrc-file');
  });

  it('private cache without a token fails with the token instructions', async () => {
    const error = await fail(use({ USER: 'root' }, 'privcache'));
    expect(error.message).toContain('privcache');
    expect(error.hint).toContain('cachix authtoken');
    await expect(stat(globalConf())).rejects.toThrow();
  });

  it('an unknown cache is the API error, and nothing is written', async () => {
    const error = await fail(use({ USER: 'root' }, 'nosuchcache'));
    expect(error.message).toContain('nosuchcache does not exist');
    await expect(stat(globalConf())).rejects.toThrow();
  });

  it('refuses an untrusted user with the sudo advice, writing nothing', async () => {
    await untrusted();
    await writeFile(globalConf(), 'trusted-users = root\n');
    const error = await fail(use({ USER: 'bob' }, 'pubcache'));
    expect(error.message).toContain('user bob is not trusted');
    expect(error.hint).toContain('trusted-users = root bob');
    await expect(stat(userConf())).rejects.toThrow();
  });

  it('requires $USER and a recent enough Nix', async () => {
    expect((await fail(use({}, 'pubcache'))).message).toContain('$USER is not set');
    nixVersion = 'nix-env (Nix) 1.11.16\n';
    expect((await fail(use({ USER: 'root' }, 'pubcache'))).message).toContain('too old');
  });

  it('refuses a nix.conf linked into the Nix store, leaving link, target and netrc alone', async () => {
    const managed = join(root, 'nix/store/abc-home-manager-files/nix.conf');
    await mkdir(join(root, 'nix/store/abc-home-manager-files'), { recursive: true });
    await writeFile(managed, 'substituters = https://hm.example\n', { mode: 0o444 });
    await mkdir(join(xdg, 'nix'), { recursive: true });
    await symlink(managed, userConf());
    const error = await fail(use({ USER: 'alice', CACHIX_AUTH_TOKEN: TOKEN }, 'privcache'));
    expect(error.message).toContain('is a link into the Nix store');
    expect((await lstat(userConf())).isSymbolicLink()).toBe(true);
    expect(await readFile(managed, 'utf8')).toBe('substituters = https://hm.example\n');
    await expect(stat(join(xdg, 'nix/netrc'))).rejects.toThrow();
  });

  it('a missing include in the target is an error and nothing is written', async () => {
    await writeFile(globalConf(), 'include missing.conf\n');
    const error = await fail(use({ USER: 'root' }, 'pubcache'));
    expect(error.message).toBe(`file ${join(root, 'etc/nix/missing.conf')} included from ${globalConf()} not found`);
    expect(await readFile(globalConf(), 'utf8')).toBe('include missing.conf\n');
  });

  describe('local caches (file:///dir)', () => {
    it('uses the public key derived from the secret generate-keypair stored in the config', async () => {
      const dir = join(tmp, 'local-cache');
      const url = `file://${dir}`;
      const key = generateSecretKey('local-cache-1');
      await mkdir(join(xdg, 'cachix'), { recursive: true });
      await writeFile(
        join(xdg, 'cachix/cachix.dhall'),
        `{ authToken = "", hostname = "https://cachix.org", binaryCaches = [ { name = "${url}", secretKey = "${formatSecretKeyNix(key, 'local-cache-1')}" } ] }\n`,
      );
      expect(await use({ USER: 'root' }, url, { outputDirectory: join(tmp, 'o') })).toBe(0);
      expect(await readFile(join(tmp, 'o/nix.conf'), 'utf8')).toBe(
        `substituters = ${N} ${url}\ntrusted-public-keys = ${NK} ${formatPublicKeyNix(key.publicKey, 'local-cache-1')}\n`,
      );
    });

    it('falls back to <dir>/.cachix-public-key, and fails clearly without any key', async () => {
      const dir = join(tmp, 'shared');
      await mkdir(dir);
      const error = await fail(use({ USER: 'root' }, dir, { outputDirectory: join(tmp, 'o') }));
      expect(error.message).toBe(`no public key known for the local cache file://${dir}`);
      const pk = formatPublicKeyNix(Buffer.alloc(32, 9), 'shared-1');
      await writeFile(join(dir, '.cachix-public-key'), `${pk}\n`);
      expect(await use({ USER: 'root' }, dir, { outputDirectory: join(tmp, 'o') })).toBe(0);
      expect(await readFile(join(tmp, 'o/nix.conf'), 'utf8')).toBe(`substituters = ${N} file://${dir}\ntrusted-public-keys = ${NK} ${pk}\n`);
    });
  });

  // Real system: as root /nix/store is writable, so nothing under /etc is read or written.
  it.skipIf(process.getuid?.() !== 0)('is wired into the CLI: cachix --host H use CACHE -O DIR', async () => {
    const out = join(tmp, 'cli-out');
    let code = -1;
    const program = buildProgram(
      { env: { USER: 'root', XDG_CONFIG_HOME: xdg, PATH: process.env.PATH }, stdin: new PassThrough(), stdout, stderr },
      (c) => (code = c),
    );
    await program.parseAsync(['node', 'cachix', '--host', standIn.apiUrl, 'use', 'pubcache', '-O', out]);
    expect(code).toBe(0);
    expect(await readFile(join(out, 'nix.conf'), 'utf8')).toContain(pub.uri);
  });
});

describe('cachix remove', () => {
  const conf = (extra = '') => `# mine\nsubstituters = ${N} https://foo.cachix.org/ https://bar.cachix.org\ntrusted-public-keys = ${NK} foo.cachix.org-1:Zm9v bar.cachix.org-1:YmFy\n${extra}`;

  it('removes https://{name}.<host> (trailing slash too) and its keys from the detected nix.conf; no network', async () => {
    await writeFile(globalConf(), conf('sandbox = false\n'));
    expect(await runRemove(context({ USER: 'root' }, null), { cache: 'foo' }, system())).toBe(0);
    expect(await readFile(globalConf(), 'utf8')).toBe(
      `# mine\nsubstituters = ${N} https://bar.cachix.org\ntrusted-public-keys = ${NK} bar.cachix.org-1:YmFy\nsandbox = false\n`,
    );
    expect(stdout.text).toBe(`Removed https://foo.cachix.org binary cache in ${globalConf()}\n`);
    expect(await runRemove(context({ USER: 'root' }, null), { cache: 'foo' }, system())).toBe(0);
    expect(stdout.text).toContain(`No https://foo.cachix.org binary cache found in ${globalConf()}\n`);
  });

  it('uses the configured host and the user nix.conf for a trusted user', async () => {
    await mkdir(join(xdg, 'nix'), { recursive: true });
    await writeFile(userConf(), 'substituters = https://foo.example.com https://foo.cachix.org\n');
    expect(await runRemove(context({ USER: 'alice' }, 'https://example.com'), { cache: 'foo' }, system())).toBe(0);
    expect(await readFile(userConf(), 'utf8')).toBe('substituters = https://foo.cachix.org\n');
    expect(stdout.text).toBe(`Removed https://foo.example.com binary cache in ${userConf()}\n`);
  });

  it('makes no API call, even with the host pointing at a live server', async () => {
    const requestsBefore = standIn.log.length;
    await writeFile(globalConf(), conf());
    expect(await runRemove(context({ USER: 'root' }), { cache: 'foo' }, system())).toBe(0);
    expect(standIn.log.length).toBe(requestsBefore);
    const host = new URL(standIn.apiUrl).host;
    expect(stdout.text).toBe(`No http://foo.${host} binary cache found in ${globalConf()}\n`);
  });

  it('reports a missing nix.conf without creating one', async () => {
    expect(await runRemove(context({ USER: 'root' }, null), { cache: 'foo' }, system())).toBe(0);
    expect(stdout.text).toBe(`No https://foo.cachix.org binary cache found in ${globalConf()}\n`);
    await expect(stat(globalConf())).rejects.toThrow();
  });

  it('is refused on NixOS and for untrusted users', async () => {
    await mkdir(join(root, 'run/current-system'), { recursive: true });
    await writeFile(join(root, 'run/current-system/nixos-version'), '24.05\n');
    const onNixos = await fail(runRemove(context({ USER: 'root' }, null), { cache: 'foo' }, system()));
    expect(onNixos.message).toBe('removing binary caches is only supported for nix.conf');
    await untrusted();
    const untrustedUser = await fail(runRemove(context({ USER: 'bob' }, null), { cache: 'foo' }, system()));
    expect(untrustedUser.message).toBe('removing binary caches is only supported for nix.conf');
  });

  it('undoes use on a local cache (file:///dir)', async () => {
    const dir = join(tmp, 'lc');
    await mkdir(dir);
    const pk = formatPublicKeyNix(Buffer.alloc(32, 5), 'lc-1');
    await writeFile(join(dir, '.cachix-public-key'), pk);
    const original = `substituters = ${N}\ntrusted-public-keys = ${NK}\n`;
    await writeFile(globalConf(), original);
    await use({ USER: 'root' }, `file://${dir}`);
    expect(await readFile(globalConf(), 'utf8')).toContain(pk);
    expect(await runRemove(context({ USER: 'root' }, null), { cache: `file://${dir}` }, system())).toBe(0);
    expect(await readFile(globalConf(), 'utf8')).toBe(original);
  });
});
