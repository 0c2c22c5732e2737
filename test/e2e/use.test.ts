import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey } from '../../src/nix/keys.js';
import { isolatedEnv, runCli } from '../support/cli.js';
import { describeNix } from '../support/nix/available.js';
import { makeTestClosure, type TestClosure } from '../support/nix/closure.js';
import { makeTempStore, removeStore, substituteWithUserConf, verifyStore } from '../support/nix/substitute.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';

const WRITE_TOKEN = 'tok-private-writer-5d4c3b2a';
const READ_TOKEN = 'tok-private-reader-1a2b3c4d';

describeNix('cachix use, judged by real Nix reading only what use wrote', () => {
  let server: StandIn;
  let closure: TestClosure;
  const key = generateSecretKey();

  beforeAll(async () => {
    server = await startStandIn();
    closure = await makeTestClosure();
  });
  afterAll(async () => {
    await server?.close();
  });

  /** `cachix use -m user-nixconf` into a fresh XDG_CONFIG_HOME; returns the nix.conf it wrote. */
  async function useInto(cache: string, extraEnv: NodeJS.ProcessEnv = {}) {
    const env = await isolatedEnv(extraEnv);
    const result = await runCli(['--host', server.apiUrl, 'use', '-m', 'user-nixconf', cache], { env });
    return { result, nixConf: join(env.XDG_CONFIG_HOME!, 'nix', 'nix.conf'), netrc: join(env.XDG_CONFIG_HOME!, 'nix', 'netrc') };
  }

  async function substitute(nixConf: string) {
    const store = await makeTempStore();
    try {
      const result = await substituteWithUserConf(store, [closure.top], nixConf);
      const verify = result.code === 0 ? await verifyStore(store) : undefined;
      return { result, verify };
    } finally {
      await removeStore(store);
    }
  }

  it('public cache: Nix substitutes the pushed closure with only the written nix.conf', async () => {
    const cache = await server.addCache({ name: 'public-e2e', publicKey: formatPublicKeyNix(key.publicKey, 'public-e2e.cachix.org-1') });
    const pushed = await runCli(['--host', server.apiUrl, 'push', 'public-e2e', closure.top], {
      env: await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key) }),
    });
    expect(pushed.code, pushed.stderr).toBe(0);

    const { result, nixConf } = await useInto('public-e2e');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`Configured ${cache.uri} binary cache in ${nixConf}\n`);
    const text = await readFile(nixConf, 'utf8');
    expect(text).toMatch(new RegExp(`^substituters = https://cache\\.nixos\\.org ${cache.uri.replace(/[.]/g, '\\.')}$`, 'm'));
    expect(text).toContain(cache.publicSigningKeys[0]!);

    const { result: sub, verify } = await substitute(nixConf);
    expect(sub.code, sub.stderr).toBe(0);
    expect(verify!.code).toBe(0);
  });

  it('private cache: use writes a 0600 netrc that Nix authenticates with; without it Nix is refused', async () => {
    const cache = await server.addCache({ name: 'private-e2e', isPublic: false, managedKey: true });
    server.addToken(WRITE_TOKEN, { 'private-e2e': 'Write' });
    server.addToken(READ_TOKEN, { 'private-e2e': 'Read' });
    const pushed = await runCli(['--host', server.apiUrl, 'push', 'private-e2e', closure.top], { env: await isolatedEnv({ CACHIX_AUTH_TOKEN: WRITE_TOKEN }) });
    expect(pushed.code, pushed.stderr).toBe(0);

    const noToken = await useInto('private-e2e');
    expect(noToken.result.code).toBe(1);
    expect(noToken.result.stderr).toContain("private-e2e doesn't exist or is private");

    const { result, nixConf, netrc } = await useInto('private-e2e', { CACHIX_AUTH_TOKEN: READ_TOKEN });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Configured private read access credentials in ${netrc}`);
    expect(result.stdout + result.stderr).not.toContain(READ_TOKEN);
    expect((await stat(netrc)).mode & 0o777).toBe(0o600);
    const netrcText = await readFile(netrc, 'utf8');
    expect(netrcText).toContain(`machine ${cache.host} `);
    expect(netrcText).toContain(`password ${READ_TOKEN}`);
    expect(await readFile(nixConf, 'utf8')).toContain(`netrc-file = ${netrc}`);

    const { result: sub, verify } = await substitute(nixConf);
    expect(sub.code, sub.stderr).toBe(0);
    expect(verify!.code).toBe(0);
    const nixRequests = server.log.filter((e) => e.route === 'nix' && e.cache === 'private-e2e');
    expect(nixRequests.length).toBeGreaterThan(0);
    expect(nixRequests.every((e) => String(e.headers.authorization).startsWith('Basic '))).toBe(true);

    // The same nix.conf without its netrc-file line: Nix gets 401s and cannot substitute.
    const { writeFile } = await import('node:fs/promises');
    const withoutNetrc = `${nixConf}.nonetrc`;
    await writeFile(withoutNetrc, (await readFile(nixConf, 'utf8')).replace(/^netrc-file = .*$/m, `netrc-file = ${netrc}.absent`));
    const { result: refused } = await substitute(withoutNetrc);
    expect(refused.code).not.toBe(0);
  });
});
