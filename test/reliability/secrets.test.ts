/**
 * Tokens and secret keys never reach stdout/stderr (also with --verbose and in error
 * messages), the argv or environment of child processes, or the presigned upload URLs;
 * the config and netrc files are 0600.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey } from '../../src/nix/keys.js';
import { isolatedEnv, runCli, type CliResult } from '../support/cli.js';
import { describeNix } from '../support/nix/available.js';
import { makeTestClosure, type TestClosure } from '../support/nix/closure.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { homeWithToken } from './support/home.js';
import { errorLines, expectNoStackTrace } from './support/output.js';
import { watchDescendants, type ProcInfo } from './support/process-tree.js';

const TOKEN = 'tok-secret-7c1f0e9d8b7a6954';
const key = generateSecretKey();
const KEY_BARE = formatSecretKeyBare(key);
/** Every form a secret could leak in. */
const SECRETS = [TOKEN, KEY_BARE, KEY_BARE.slice(0, 40), Buffer.from(TOKEN).toString('base64')];

function expectNoSecrets(text: string, where: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${where} contains a secret: ${text.slice(0, 400)}`).toBe(false);
}

function expectCleanRun(result: CliResult): void {
  expectNoSecrets(result.stdout, 'stdout');
  expectNoSecrets(result.stderr, 'stderr');
}

/**
 * A child caught between fork() and exec() is still a copy of the CLI (same argv, same
 * environment block); what matters is the program it becomes, so those snapshots are skipped.
 */
function isPreExecCopy(p: ProcInfo): boolean {
  return p.argv[0] === process.execPath && p.argv.some((a) => a.endsWith('bin/cachix'));
}

function expectCleanChildren(seen: Map<string, ProcInfo>): void {
  const programs = [...seen.values()].filter((p) => !isPreExecCopy(p));
  expect(programs.length).toBeGreaterThan(0);
  for (const p of programs) {
    expectNoSecrets(p.argv.join(' '), `argv of ${p.argv[0]}`);
    expectNoSecrets(p.environ.join('\n'), `environment of ${p.argv.join(' ')}`);
    expect(p.environ.some((e) => e.startsWith('CACHIX_AUTH_TOKEN=') || e.startsWith('CACHIX_SIGNING_KEY='))).toBe(false);
  }
}

/**
 * A server that answers every request with an error echoing the Authorization header back
 * (`bare`: only the token, without the `Bearer ` that marks it as a credential).
 */
async function startEchoingServer(status: number, bare = false): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    const auth = req.headers.authorization ?? 'none';
    const echoed = bare ? auth.replace(/^Bearer /, '') : auth;
    const body = JSON.stringify({ error: `invalid credentials: ${echoed} for ${req.url}` });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describeNix('secrets stay secret', () => {
  let server: StandIn;
  let closure: TestClosure;

  beforeAll(async () => {
    server = await startStandIn();
    // Big enough that its `nix-store --dump` lives through the back-pressured upload: the child
    // watcher (5 ms polls) must see it. Small paths are serialised in-process, without children.
    closure = await makeTestClosure({ bigMB: 64 });
    server.addToken(TOKEN, { managed: 'Write', signed: 'Write', private: 'Read' });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('token-mode push with --verbose: no token in output, child argv/env, or upload requests', async () => {
    await server.addCache({ name: 'managed', managedKey: true });
    const env = await isolatedEnv({ CACHIX_AUTH_TOKEN: TOKEN });
    let watcher: ReturnType<typeof watchDescendants> | undefined;
    const logStart = server.log.length;
    const result = await runCli(['--verbose', '--host', server.apiUrl, 'push', '-s', '5M', 'managed', closure.top, closure.big!], {
      env,
      onSpawn: (c) => (watcher = watchDescendants(c.pid!, 5)),
    });
    watcher!.stop();
    expect(result.code, result.stderr).toBe(0);
    expectCleanRun(result);
    // The children were seen (nix-store --dump, zstd), and none of them got a secret.
    expect([...watcher!.seen.values()].some((p) => p.argv.includes('--dump'))).toBe(true);
    expectCleanChildren(watcher!.seen);
    const requests = server.log.slice(logStart);
    const uploads = requests.filter((e) => e.route === 'upload');
    expect(uploads.length).toBeGreaterThan(0);
    for (const e of uploads) {
      expect(e.headers.authorization).toBeUndefined();
      expectNoSecrets(JSON.stringify(e.headers) + e.url, 'an upload request');
    }
    expect(requests.filter((e) => e.route === 'api').every((e) => e.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  }, 120_000);

  it('signing-key push with a token in the config file: no secret in output or children', async () => {
    await server.addCache({ name: 'signed', publicKey: formatPublicKeyNix(key.publicKey, 'signed.cachix.org-1') });
    const home = await homeWithToken(TOKEN, { CACHIX_SIGNING_KEY: KEY_BARE });
    let watcher: ReturnType<typeof watchDescendants> | undefined;
    const result = await runCli(['-v', '--host', server.apiUrl, 'push', 'signed', closure.top], {
      env: home.env,
      onSpawn: (c) => (watcher = watchDescendants(c.pid!, 5)),
    });
    watcher!.stop();
    expect(result.code, result.stderr).toBe(0);
    expectCleanRun(result);
    expect(watcher!.seen.size).toBeGreaterThan(0);
    expectCleanChildren(watcher!.seen);
  });

  for (const status of [400, 401, 403, 500]) {
    it(`an error body echoing the token (HTTP ${status}) is redacted, also with --verbose`, async () => {
      const echo = await startEchoingServer(status);
      try {
        for (const verbose of [[], ['--verbose']]) {
          const env = await isolatedEnv({ CACHIX_AUTH_TOKEN: TOKEN });
          const result = await runCli([...verbose, '--host', echo.url, 'push', 'managed', closure.top], { env });
          expect(result.code).toBe(1);
          expect(errorLines(result.stderr)).toHaveLength(1);
          expectCleanRun(result);
          if (verbose.length === 0) expectNoStackTrace(result.stderr);
        }
      } finally {
        await echo.close();
      }
    });
  }

  it('a token from the config file is redacted too, for push and for use', async () => {
    const echo = await startEchoingServer(401);
    try {
      const home = await homeWithToken(TOKEN);
      for (const args of [['push', 'managed', closure.top], ['use', 'managed', '-O', home.home]]) {
        const result = await runCli(['--verbose', '--host', echo.url, ...args], { env: home.env });
        expect(result.code).toBe(1);
        expectCleanRun(result);
      }
    } finally {
      await echo.close();
    }
  });

  // Known bug (reported): only `push` registers a config-file token with redact(); loadSettings
  // (src/config/settings.ts) should, so `use` and every other command redact it as well.
  it('a config-file token echoed bare (no "Bearer") by the server is redacted for use', async () => {
    const echo = await startEchoingServer(401, true);
    try {
      const home = await homeWithToken(TOKEN);
      const result = await runCli(['--host', echo.url, 'use', 'managed', '-O', home.home], { env: home.env });
      expect(result.code).toBe(1);
      expectCleanRun(result);
    } finally {
      await echo.close();
    }
  });

  it('a malformed signing key is not echoed back in the error', async () => {
    // Looks like a key, is one byte short: the message must not quote it.
    const almost = KEY_BARE.slice(0, -4);
    for (const verbose of [[], ['--verbose']]) {
      const env = await isolatedEnv({ CACHIX_SIGNING_KEY: almost });
      const result = await runCli([...verbose, '--host', server.apiUrl, 'push', 'signed', closure.top], { env });
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).not.toContain(almost);
      expect(result.stdout + result.stderr).not.toContain(almost.slice(0, 24));
    }
  });

  it('authtoken and generate-keypair write the config 0600; `use` of a private cache writes netrc 0600', async () => {
    const home = await homeWithToken(TOKEN);
    expect((await stat(home.configPath)).mode & 0o777).toBe(0o600);
    await server.addCache({ name: 'mine', managedKey: false });
    server.addToken(TOKEN, { mine: 'Admin' });
    const keypair = await runCli(['--host', server.apiUrl, 'generate-keypair', 'mine'], { env: home.env });
    expect(keypair.code, keypair.stderr).toBe(0);
    expectCleanRun(keypair);
    expect((await stat(home.configPath)).mode & 0o777).toBe(0o600);

    await server.addCache({ name: 'private', isPublic: false, managedKey: true });
    const out = await mkdtemp(join(tmpdir(), 'cachix-netrc-'));
    const used = await runCli(['--host', server.apiUrl, 'use', 'private', '-O', out], { env: home.env });
    expect(used.code, used.stderr).toBe(0);
    expectCleanRun(used);
    expect((await stat(join(out, 'netrc'))).mode & 0o777).toBe(0o600);
  });
});

