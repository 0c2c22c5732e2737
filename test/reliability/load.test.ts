/**
 * Load: a 2,000-path push keeps memory and file descriptors bounded (no EMFILE), and an
 * already-cached 10,000-path closure costs a handful of API requests.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey } from '../../src/nix/keys.js';
import { isolatedEnv, runCli } from '../support/cli.js';
import { describeNix } from '../support/nix/available.js';
import { makeManyTinyPaths } from '../support/nix/closure.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { errorLines } from './support/output.js';
import { pushMeasured } from './support/usage.js';

const key = generateSecretKey();

describeNix('load', () => {
  let server: StandIn;

  beforeAll(async () => {
    server = await startStandIn();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('pushes 2,000 paths with bounded memory and file descriptors', async () => {
    await server.addCache({ name: 'two-k', publicKey: formatPublicKeyNix(key.publicKey, 'two-k.cachix.org-1') });
    const paths = await makeManyTinyPaths(2000);
    const env = await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key) });
    const started = Date.now();
    // Paths on stdin, as `nix-store -qR | cachix push` would give them.
    const { result, usage } = await pushMeasured(['--host', server.apiUrl, 'push', 'two-k'], env, paths.join('\n'));
    const seconds = (Date.now() - started) / 1000;
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(result.stderr).not.toMatch(/EMFILE|too many open files/i);
    expect(errorLines(result.stderr)).toEqual([]);
    expect(server.listNarinfos('two-k')).toHaveLength(2000);
    expect(server.openUploads()).toBe(0);
    console.info(`2,000 paths: ${seconds.toFixed(1)} s, peak RSS ${usage.peakRssMiB.toFixed(0)} MiB, at most ${usage.maxFds} fds`);
    expect(usage.peakRssMiB).toBeGreaterThan(0);
    expect(usage.peakRssMiB).toBeLessThan(400);
    expect(usage.maxFds).toBeLessThan(512);
  }, 180_000);

  it('answers an already-cached 10,000-path closure with a handful of API requests', async () => {
    await server.addCache({ name: 'ten-k', publicKey: formatPublicKeyNix(key.publicKey, 'ten-k.cachix.org-1') });
    const paths = await makeManyTinyPaths(10_000);
    const env = await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key) });
    const first = await runCli(['--host', server.apiUrl, 'push', 'ten-k'], { env, input: paths.join('\n') });
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    expect(server.listNarinfos('ten-k')).toHaveLength(10_000);

    const logStart = server.log.length;
    const { result, usage } = await pushMeasured(['--host', server.apiUrl, 'push', 'ten-k'], env, paths.join('\n'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('Nothing to push - all store paths are already on Cachix.\n');
    const requests = server.log.slice(logStart);
    console.info(`10,000 cached paths: ${requests.length} requests, peak RSS ${usage.peakRssMiB.toFixed(0)} MiB`);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.length).toBeLessThanOrEqual(5);
    expect(requests.every((e) => e.route === 'api' && e.method === 'POST' && e.path.endsWith('/narinfo'))).toBe(true);
  }, 600_000);
});
