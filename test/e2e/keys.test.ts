/**
 * Issue 5, end to end: keys made by `generate-keypair` and `create` are registered with the
 * (strict) stand-in, kept in the config, used by `push`, and trusted by real Nix; refusals
 * and malformed keys are one line, exit 1, and leave the config as it was.
 */
import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey, parsePublicKeyNix, parseSecretKey } from '../../src/nix/keys.js';
import { isolatedEnv, runCli, type CliResult } from '../support/cli.js';
import { describeNix } from '../support/nix/available.js';
import { makeTestClosure, type TestClosure } from '../support/nix/closure.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { makeConfigFile, removeConfigFiles, type ConfigFile } from './helpers/config-file.js';
import { expectNixAccepts, expectNixRefusesSignature } from './helpers/nix-judge.js';

const ADMIN_TOKEN = 'tok-admin-1a2b3c4d5e6f';
const WRITE_TOKEN = 'tok-write-6f5e4d3c2b1a';
const CREATOR_TOKEN = 'tok-creator-0f1e2d3c4b5a';
/** Another cache's secret in the config: must survive every command byte for byte. */
const OTHER_SECRET = formatSecretKeyBare(generateSecretKey());

/** The only `cachix:` line of a failed run, after checking there is exactly one and no stack trace. */
function singleErrorLine(result: CliResult): string {
  expect(result.code).toBe(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^cachix: /);
  return lines[0]!;
}

function storeHash(path: string): string {
  return path.slice('/nix/store/'.length, '/nix/store/'.length + 32);
}

describeNix('signing keys end to end (generate-keypair, create, push, real Nix)', () => {
  let server: StandIn;
  let closure: TestClosure;

  beforeAll(async () => {
    server = await startStandIn();
    closure = await makeTestClosure();
  });
  afterAll(async () => {
    await server?.close();
    await removeConfigFiles();
  });

  async function cli(config: ConfigFile, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    return runCli(['--host', server.apiUrl, '-c', config.path, ...args], { env: await isolatedEnv(extraEnv) });
  }

  function configWithToken(authToken: string): Promise<ConfigFile> {
    return makeConfigFile({ authToken, hostname: server.apiUrl, binaryCaches: [{ name: 'other', secretKey: OTHER_SECRET }] });
  }

  it('generate-keypair registers a key; push signs with it from the config; Nix trusts the registered key only', async () => {
    const cache = await server.addCache({ name: 'genkey' });
    expect(cache.publicSigningKeys).toEqual([]);
    server.addToken(ADMIN_TOKEN, { genkey: 'Admin' });
    const config = await configWithToken(ADMIN_TOKEN);

    const generated = await cli(config, ['generate-keypair', 'genkey']);
    expect(generated.stderr).toBe('');
    expect(generated.code).toBe(0);
    expect(generated.stdout).toContain(`Written to ${config.path}`);
    expect(generated.stdout + generated.stderr).not.toContain(ADMIN_TOKEN);

    // The config keeps the token and the other entry, and gains the secret whose public half the server holds.
    const saved = await config.read();
    expect(saved.authToken).toBe(ADMIN_TOKEN);
    expect(saved.binaryCaches.map((c) => c.name)).toEqual(['other', 'genkey']);
    expect(saved.binaryCaches[0]!.secretKey).toBe(OTHER_SECRET);
    const secret = parseSecretKey(saved.binaryCaches[1]!.secretKey, 'test');
    expect(cache.publicSigningKeys).toHaveLength(1);
    expect(parsePublicKeyNix(cache.publicSigningKeys[0]!).key.equals(secret.publicKey)).toBe(true);
    expect((await stat(config.path)).mode & 0o777).toBe(0o600);
    expect(await config.siblings()).toEqual(['cachix.dhall']);

    // Token present, key from the config: signing-key mode; the stand-in checks every Sig against the registered key.
    const pushed = await cli(config, ['push', 'genkey', closure.top]);
    expect(pushed.code).toBe(0);
    expect(pushed.stderr).toContain(`Pushing ${closure.paths.length} paths (0 are already present) using zstd to cache genkey`);
    expect(server.listNarinfos('genkey')).toEqual(closure.paths.map(storeHash).sort());
    const keyName = parsePublicKeyNix(cache.publicSigningKeys[0]!).name;
    expect(server.narinfo('genkey', storeHash(closure.top))!.sigs).toEqual([expect.stringMatching(new RegExp(`^${keyName}:`))]);

    await expectNixAccepts(cache.uri, [closure.top], cache.publicSigningKeys);
    await expectNixRefusesSignature(cache.uri, closure.top, [formatPublicKeyNix(generateSecretKey().publicKey, keyName)]);
  });

  it('create makes the cache with a local key; push with that key; Nix substitutes the closure', async () => {
    server.addToken(CREATOR_TOKEN, {});
    const config = await configWithToken(CREATOR_TOKEN);

    const created = await cli(config, ['create', 'made-here']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('Created public cache made-here.');
    const cache = server.cache('made-here')!;
    expect(cache).toBeDefined();
    expect(cache.isPublic).toBe(true);
    expect(cache.managedSecretKey).toBeUndefined();

    const saved = await config.read();
    expect(saved.authToken).toBe(CREATOR_TOKEN);
    expect(saved.binaryCaches.map((c) => c.name)).toEqual(['other', 'made-here']);
    const secret = parseSecretKey(saved.binaryCaches[1]!.secretKey, 'test');
    expect(parsePublicKeyNix(cache.publicSigningKeys[0]!).key.equals(secret.publicKey)).toBe(true);

    const pushed = await cli(config, ['push', 'made-here', closure.top]);
    expect(pushed.code).toBe(0);
    expect(server.listNarinfos('made-here')).toHaveLength(closure.paths.length);
    await expectNixAccepts(cache.uri, [closure.top], cache.publicSigningKeys);
  });

  it('generate-keypair on a cache that already has a key: 409 in one line, exit 1, config untouched', async () => {
    const existing = generateSecretKey();
    const cache = await server.addCache({ name: 'haskey', publicKey: existing.publicKey.toString('base64') });
    server.addToken('tok-haskey-admin-99', { haskey: 'Admin' });
    const config = await configWithToken('tok-haskey-admin-99');
    const before = await config.bytes();

    const result = await cli(config, ['generate-keypair', 'haskey']);
    const line = singleErrorLine(result);
    expect(line).toContain('HTTP 409');
    expect(line).toContain('haskey');
    expect(result.stdout).toBe('');
    expect((await config.bytes()).equals(before)).toBe(true);
    expect(await config.siblings()).toEqual(['cachix.dhall']);
    // The server still trusts only the original key.
    expect(cache.publicSigningKeys).toEqual([formatPublicKeyNix(existing.publicKey, parsePublicKeyNix(cache.publicSigningKeys[0]!).name)]);
  });

  it('generate-keypair with a Write-only token is refused (403) in one line; nothing saved', async () => {
    const cache = await server.addCache({ name: 'writeonly' });
    server.addToken(WRITE_TOKEN, { writeonly: 'Write' });
    const config = await configWithToken(WRITE_TOKEN);
    const before = await config.bytes();
    const line = singleErrorLine(await cli(config, ['generate-keypair', 'writeonly']));
    expect(line).toContain('HTTP 403');
    expect(line).not.toContain(WRITE_TOKEN);
    expect((await config.bytes()).equals(before)).toBe(true);
    expect(cache.publicSigningKeys).toEqual([]);
  });

  it('create on an existing cache: 409 in one line, exit 1, config untouched', async () => {
    await server.addCache({ name: 'taken', managedKey: true });
    server.addToken('tok-taken-creator-77', {});
    const config = await configWithToken('tok-taken-creator-77');
    const before = await config.bytes();
    const line = singleErrorLine(await cli(config, ['create', 'taken']));
    expect(line).toContain('HTTP 409');
    expect((await config.bytes()).equals(before)).toBe(true);
    expect(await config.siblings()).toEqual(['cachix.dhall']);
  });

  it('a malformed signing key (garbage, wrong length; env or config) stops push in one line before any upload', async () => {
    await server.addCache({ name: 'badkeys', publicKey: generateSecretKey().publicKey.toString('base64') });
    const config = await configWithToken('');
    const before = await config.bytes();
    const cases: Array<{ env: NodeJS.ProcessEnv; expected: RegExp }> = [
      { env: { CACHIX_SIGNING_KEY: 'this is not a key!' }, expected: /^cachix: the signing key from CACHIX_SIGNING_KEY is not valid base64/ },
      {
        env: { CACHIX_SIGNING_KEY: generateSecretKey().publicKey.toString('base64') },
        expected: /^cachix: the signing key from CACHIX_SIGNING_KEY has 32 bytes, expected 64/,
      },
      {
        env: { CACHIX_SIGNING_KEY: `badkeys-1:${Buffer.alloc(48, 7).toString('base64')}` },
        expected: /^cachix: the signing key from CACHIX_SIGNING_KEY has 48 bytes, expected 64/,
      },
    ];
    for (const { env, expected } of cases) {
      const logBefore = server.log.length;
      const result = await cli(config, ['push', 'badkeys', closure.top], env);
      expect(singleErrorLine(result)).toMatch(expected);
      expect(result.stderr).not.toContain(env.CACHIX_SIGNING_KEY!);
      expect(server.log.slice(logBefore).filter((e) => e.cache === 'badkeys')).toEqual([]);
    }
    expect((await config.bytes()).equals(before)).toBe(true);

    // The same garbage in the config file names the file and the entry.
    const fromFile = await makeConfigFile({ hostname: server.apiUrl, binaryCaches: [{ name: 'badkeys', secretKey: 'not*base64' }] });
    const fileBefore = await fromFile.bytes();
    const line = singleErrorLine(await cli(fromFile, ['push', 'badkeys', closure.top]));
    expect(line).toContain(`the signing key from ${fromFile.path} (binaryCaches entry "badkeys") is not valid base64`);
    expect((await fromFile.bytes()).equals(fileBefore)).toBe(true);
    expect(server.listNarinfos('badkeys')).toEqual([]);
  });
});
