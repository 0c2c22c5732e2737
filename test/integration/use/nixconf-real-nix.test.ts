import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addCacheToNixConf, externalSettings, NIXOS_CACHE, NIXOS_CACHE_KEY } from '../../../src/use/nixconf-edit.js';
import { readConfTree } from '../../../src/use/nixconf-tree.js';
import { readTextFile } from '../../../src/use/system.js';

/**
 * What real Nix (2.8) makes of the files the editor writes: after `use`, Nix's effective
 * substituters and keys hold everything they held before plus the cache, each once.
 */
const run = promisify(execFile);
const haveNix = existsSync('/usr/bin/nix');
const CACHE = { uri: 'https://foo.cachix.org', publicKeys: ['foo.cachix.org-1:Zm9vMQ=='] };

async function effective(env: Record<string, string>): Promise<{ substituters: string[]; keys: string[] }> {
  const { stdout } = await run('nix', ['--extra-experimental-features', 'nix-command', 'show-config'], { env: { PATH: process.env.PATH, ...env } });
  const value = (key: string) =>
    (new RegExp(`^${key} = (.*)$`, 'm').exec(stdout)?.[1] ?? '').split(' ').filter((v) => v !== '');
  return { substituters: value('substituters'), keys: value('trusted-public-keys') };
}

describe.skipIf(!haveNix)('nix.conf written by use, read by real Nix', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cachix-nixconf-nix-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, string, Record<string, string>][] = [
    ['empty', '', {}],
    ['substituters with a comment', 'substituters = https://a.example # mine\n', {}],
    ['extra- lines only', 'extra-substituters = https://x.example\nextra-trusted-public-keys = x-1:eA==\n', {}],
    ['extra- above plain', 'extra-substituters = https://x.example\nsubstituters = https://a.example\n', {}],
    ['extra- already providing the cache', `extra-substituters = ${CACHE.uri}\nextra-trusted-public-keys = ${CACHE.publicKeys[0]}\n`, {}],
    ['legacy names', 'binary-caches = https://a.example\nbinary-cache-public-keys = a-1:QQ==\n', {}],
    ['include with extra-', 'include more.conf\n', { 'more.conf': 'extra-substituters = https://inc.example\n' }],
  ];

  it.each(cases)('custom/root file: %s', async (_name, text, others) => {
    const conf = join(dir, 'nix.conf');
    await writeFile(conf, text);
    for (const [name, body] of Object.entries(others)) await writeFile(join(dir, name), body);
    const env = { NIX_CONF_DIR: dir, NIX_USER_CONF_FILES: join(dir, 'none.conf') };
    const before = await effective(env);
    const tree = await readConfTree(conf, readTextFile);
    await writeFile(conf, addCacheToNixConf(text, CACHE, { external: externalSettings([], tree) }));
    const after = await effective(env);

    // Nix's default is `https://cache.nixos.org/`; `use` writes it without the slash.
    const norm = (uri: string) => uri.replace(/\/+$/, '');
    expect(new Set(after.substituters.map(norm))).toEqual(new Set([NIXOS_CACHE, ...before.substituters.map(norm), CACHE.uri]));
    expect(after.substituters.length).toBe(new Set(after.substituters).size);
    expect(new Set(after.keys)).toEqual(new Set([NIXOS_CACHE_KEY, ...before.keys, ...CACHE.publicKeys]));
    expect(after.keys.length).toBe(new Set(after.keys).size);
  });

  it('user file: the global file\'s substituters and extras survive the user file\'s substituters line', async () => {
    const globalDir = join(dir, 'etc');
    await mkdir(globalDir);
    await writeFile(join(globalDir, 'nix.conf'), 'substituters = https://g.example\nextra-substituters = https://ge.example\ntrusted-public-keys = g-1:Rw==\n');
    const user = join(dir, 'user.conf');
    const env = { NIX_CONF_DIR: globalDir, NIX_USER_CONF_FILES: user };
    const before = await effective(env);
    const globalTree = await readConfTree(join(globalDir, 'nix.conf'), readTextFile);
    await writeFile(user, addCacheToNixConf('', CACHE, { external: externalSettings(globalTree, []) }));
    const after = await effective(env);
    expect(new Set(after.substituters)).toEqual(new Set([NIXOS_CACHE, ...before.substituters, CACHE.uri]));
    expect(new Set(after.keys)).toEqual(new Set([NIXOS_CACHE_KEY, ...before.keys, ...CACHE.publicKeys]));
  });
});
