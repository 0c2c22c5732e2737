/**
 * `cachix doctor` against the strict stand-in (spec §8): what each check prints (✓ / ! / ✗),
 * how cache lookups are classified (401 with and without a token, 404, server down), the
 * signing-key match, the store-path presence check, and the exit code.
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSecretKeyBare, generateSecretKey } from '../../../src/nix/keys.js';
import { isolatedEnv, runCli, type CliResult } from '../../support/cli.js';
import { itNix } from '../../support/nix/available.js';
import { makeManyTinyPaths } from '../../support/nix/closure.js';
import { startStandIn, type StandIn } from '../../support/standin/index.js';
import { makeConfigFile, removeConfigFiles } from '../../e2e/helpers/config-file.js';

const WRITER = 'tok-doctor-writer-1f2e3d4c';
const UNKNOWN = 'tok-doctor-unknown-5b6a7988';
const SELF_KEY = generateSecretKey();

const hashOf = (path: string): string => path.slice('/nix/store/'.length, '/nix/store/'.length + 32);

/** Doctor's output is for people; no token or stack may ever show up in it. */
function expectClean(result: CliResult): void {
  expect(result.stderr).toBe('');
  for (const token of [WRITER, UNKNOWN]) expect(result.stdout).not.toContain(token);
  expect(result.stdout).not.toMatch(/\n\s+at /);
}

describe('cachix doctor (stand-in)', () => {
  let server: StandIn;
  let scratch: string;

  beforeAll(async () => {
    server = await startStandIn();
    await server.addCache({ name: 'doc-self', publicKey: SELF_KEY.publicKey.toString('base64') });
    await server.addCache({ name: 'doc-pub', managedKey: true });
    await server.addCache({ name: 'doc-priv', isPublic: false, managedKey: true });
    server.addToken(WRITER, { 'doc-self': 'Write', 'doc-pub': 'Write', 'doc-priv': 'Write' });
    scratch = await mkdtemp(join(tmpdir(), 'cachix-doctor-'));
  });
  afterAll(async () => {
    await server?.close();
    await removeConfigFiles();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function doctor(args: string[], options: { config?: string; env?: NodeJS.ProcessEnv; host?: string } = {}): Promise<CliResult> {
    const global = [...(options.config ? ['-c', options.config] : []), ...(options.host ? ['--host', options.host] : [])];
    return runCli([...global, 'doctor', ...args], { env: await isolatedEnv(options.env ?? {}) });
  }

  it('a healthy setup: config, host, token, the cache and its matching signing key all ✓, exit 0', async () => {
    const config = await makeConfigFile({
      authToken: WRITER,
      hostname: server.apiUrl,
      binaryCaches: [{ name: 'doc-self', secretKey: formatSecretKeyBare(SELF_KEY) }],
    });
    const result = await doctor([], { config: config.path });
    expectClean(result);
    const cache = server.cache('doc-self')!;
    expect(result.stdout).toBe(
      [
        'Configuration',
        `  ✓ Config file ${config.path}`,
        `  ✓ Host ${server.apiUrl} (from the config file)`,
        '  ✓ Auth token set (from the config file)',
        '',
        'Cache doc-self',
        '  ✓ Found: public cache, your permission: Write',
        `    URI: ${cache.uri}`,
        `    Public key: ${cache.publicSigningKeys[0]}`,
        '  ✓ Signing key from the config file matches doc-self.cachix.org-1',
        '',
        'All checks passed.',
        '',
      ].join('\n'),
    );
    expect(result.code).toBe(0);
  });

  it('a refused token (401 with a token): ✗ for that cache, exit 1; a duplicate config entry is checked once', async () => {
    const config = await makeConfigFile({
      authToken: UNKNOWN,
      hostname: server.apiUrl,
      binaryCaches: [
        { name: 'doc-priv', secretKey: formatSecretKeyBare(generateSecretKey()) },
        { name: 'doc-pub', secretKey: formatSecretKeyBare(generateSecretKey()) },
        { name: 'doc-priv', secretKey: formatSecretKeyBare(generateSecretKey()) },
      ],
    });
    const result = await doctor([], { config: config.path });
    expectClean(result);
    expect(result.stdout).toContain('Cache doc-priv\n  ✗ Access refused (HTTP 401): the token is invalid or expired, or may not read this cache\n');
    expect(result.stdout.match(/^Cache doc-priv$/gm)).toHaveLength(1);
    // The public cache is readable even with an unknown token, but the config's key for it is not the cache's.
    expect(result.stdout).toContain('Cache doc-pub\n  ✓ Found: public cache, your permission: Read\n');
    expect(result.stdout).toMatch(/✗ Signing key from the config file is not one of the cache's public keys/);
    expect(result.stdout.endsWith('\nSome checks failed.\n')).toBe(true);
    expect(result.code).toBe(1);
  });

  it('no config file and no token: warnings, and a private cache is ✗ (401 without a token)', async () => {
    const result = await doctor(['--cache', 'doc-priv'], { host: server.apiUrl });
    expectClean(result);
    const lines = result.stdout.split('\n');
    expect(lines[1]).toMatch(/^  ! No config file at \/.*\/cachix\/cachix\.dhall \(defaults in use\)$/);
    expect(lines[2]).toBe(`  ✓ Host ${server.apiUrl} (from --host)`);
    expect(lines[3]).toMatch(/^  ! No auth token: /);
    expect(result.stdout).toContain('Cache doc-priv\n  ✗ Access refused (HTTP 401): the cache is private (or does not exist) and no auth token is set\n');
    expect(result.code).toBe(1);
  });

  it('an empty CACHIX_AUTH_TOKEN is a warning, and a public cache still passes', async () => {
    const result = await doctor(['--cache', 'doc-pub'], { host: server.apiUrl, env: { CACHIX_AUTH_TOKEN: '' } });
    expectClean(result);
    expect(result.stdout).toContain('  ! CACHIX_AUTH_TOKEN is set but empty: requests carry no token\n');
    expect(result.stdout).toContain('  ✓ Found: public cache, your permission: Read\n');
    expect(result.stdout).toContain('All checks passed (see the warnings above).\n');
    expect(result.code).toBe(0);
  });

  it('an unknown cache is ✗ (404), naming the host', async () => {
    const result = await doctor(['--cache', 'doc-missing'], { host: server.apiUrl, env: { CACHIX_AUTH_TOKEN: WRITER } });
    expectClean(result);
    expect(result.stdout).toContain('  ✓ Auth token set (from CACHIX_AUTH_TOKEN)\n');
    expect(result.stdout).toContain(`Cache doc-missing\n  ✗ Not found (HTTP 404): there is no cache doc-missing on ${server.apiUrl}\n`);
    expect(result.code).toBe(1);
  });

  it('a signing key from CACHIX_SIGNING_KEY that the cache does not publish is ✗', async () => {
    const env = { CACHIX_AUTH_TOKEN: WRITER, CACHIX_SIGNING_KEY: formatSecretKeyBare(generateSecretKey()) };
    const result = await doctor(['--cache', 'doc-self'], { host: server.apiUrl, env });
    expectClean(result);
    expect(result.stdout).toContain('  ✗ Signing key from CACHIX_SIGNING_KEY is not one of the cache\'s public keys: Nix would reject the paths it signs\n');
    expect(result.stdout).not.toContain(env.CACHIX_SIGNING_KEY);
    expect(result.code).toBe(1);
  });

  it('a server that drops every connection: ✗ cannot reach, and the store path is not looked up', async () => {
    const down = await startStandIn();
    try {
      down.setDown(true);
      const result = await doctor(['--cache', 'doc-pub', 'a'.repeat(32)], { host: down.apiUrl, env: { CACHIX_AUTH_TOKEN: WRITER } });
      expectClean(result);
      expect(result.stdout).toMatch(new RegExp(`Cache doc-pub\\n  ✗ Cannot reach ${down.apiUrl.replace(/\./g, '\\.')}: GET ${down.apiUrl.replace(/\./g, '\\.')}/api/v1/cache/doc-pub: .+\\n`));
      expect(result.stdout).toContain('    doc-pub: not looked up (the cache check failed)\n');
      expect(result.code).toBe(1);
    } finally {
      await down.close();
    }
  });

  it('a broken config file is ✗ and stops there, without any request', async () => {
    const broken = join(scratch, 'broken.dhall');
    await writeFile(broken, '{ authToken = "unterminated\n');
    const mark = server.log.length;
    const result = await doctor(['--cache', 'doc-pub'], { config: broken, host: server.apiUrl });
    expectClean(result);
    expect(result.stdout).toMatch(new RegExp(`^Configuration\\n  ✗ Config file ${broken}: .+\\n\\nSome checks failed\\.\\n$`));
    expect(result.code).toBe(1);
    expect(server.log.length).toBe(mark);
  });

  it('a store path with no cache to look in is ✗', async () => {
    const result = await doctor(['b'.repeat(32)], { host: server.apiUrl });
    expectClean(result);
    expect(result.stdout).toContain(`Store path ${'b'.repeat(32)}\n    Hash: ${'b'.repeat(32)}\n  ✗ No cache to look in: give --cache NAME\n`);
    expect(result.code).toBe(1);
  });

  itNix('store path presence: a pushed path (by path, ./result-style link or bare hash) ✓, an unpushed one !, garbage ✗', async () => {
    const [pushed, unpushed] = await makeManyTinyPaths(2);
    const env = { CACHIX_AUTH_TOKEN: WRITER };
    const push = await runCli(['--host', server.apiUrl, 'push', 'doc-pub', pushed!], { env: await isolatedEnv(env) });
    expect(push.code).toBe(0);
    const link = join(scratch, 'result');
    await symlink(pushed!, link);

    for (const input of [pushed!, link, hashOf(pushed!)]) {
      const mark = server.log.length;
      const result = await doctor(['--cache', 'doc-pub', input], { host: server.apiUrl, env });
      expectClean(result);
      expect(result.stdout).toContain(`Store path ${input}\n    Hash: ${hashOf(pushed!)}\n  ✓ In doc-pub\n`);
      expect(result.code).toBe(0);
      const queries = server.log.slice(mark).filter((e) => e.method === 'POST' && e.path === '/api/v1/cache/doc-pub/narinfo');
      expect(queries).toHaveLength(1);
    }

    const missing = await doctor(['--cache', 'doc-pub', unpushed!], { host: server.apiUrl, env });
    expectClean(missing);
    expect(missing.stdout).toContain(`  ! Not in doc-pub\n`);
    expect(missing.stdout).toContain('All checks passed (see the warnings above).\n');
    expect(missing.code).toBe(0);

    const garbage = await doctor(['--cache', 'doc-pub', join(scratch, 'no-such-result')], { host: server.apiUrl, env });
    expectClean(garbage);
    expect(garbage.stdout).toContain('  ✗ Not a store path, a symlink into the store, or a 32-character hash: no such file or directory\n');
    expect(garbage.code).toBe(1);
  });
});
