/**
 * A flaky server (20 % of API and upload requests fail: 500, 429 + Retry-After, connection
 * reset mid-body, slow answers) does not stop a 50-path push, and real Nix accepts every
 * path. A server that is down fails the push after the retry bound with one line, exit 1.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey } from '../../src/nix/keys.js';
import { isolatedEnv, runCli } from '../support/cli.js';
import { describeNix } from '../support/nix/available.js';
import { makeManyTinyPaths, makeTestClosure, type TestClosure } from '../support/nix/closure.js';
import { makeTempStore, removeStore, substituteInto, verifyStore } from '../support/nix/substitute.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { errorLines, expectOneLineFailure } from './support/output.js';

const key = generateSecretKey();

describeNix('pushing through faults', () => {
  let server: StandIn;
  let closure: TestClosure;
  let tiny: string[];

  beforeAll(async () => {
    server = await startStandIn({ seed: 20240601 });
    // 7 input-addressed paths (signatures matter) + 43 content-addressed ones = 50.
    closure = await makeTestClosure();
    tiny = await makeManyTinyPaths(43);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('a 50-path push completes with 20% of API and upload requests failing; Nix accepts every path', async () => {
    const cache = await server.addCache({ name: 'flaky', publicKey: formatPublicKeyNix(key.publicKey, 'flaky.cachix.org-1') });
    const all = [...closure.paths, ...tiny];
    expect(all).toHaveLength(50);
    server.setFaults({ rate: 0.2, kinds: ['500', '429', 'reset', 'slow'], on: ['api', 'upload'], retryAfterSeconds: 1, slowMs: 300 });
    let result;
    try {
      // Small parts so most paths' uploads see faults too; -j 4 keeps several in flight.
      result = await runCli(['--host', server.apiUrl, 'push', '-j', '4', 'flaky', closure.top, ...tiny], {
        env: await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key) }),
      });
    } finally {
      server.setFaults(undefined);
    }
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('Pushing 50 paths (0 are already present)');
    expect(errorLines(result.stderr)).toEqual([]);
    // Every kind of fault hit, on both routes.
    const kinds = new Set(server.faultLog.map((f) => f.kind));
    for (const kind of ['500', '429', 'reset', 'slow']) expect(kinds).toContain(kind);
    expect(new Set(server.faultLog.map((f) => f.route))).toEqual(new Set(['api', 'upload']));
    expect(server.listNarinfos('flaky').sort()).toEqual(all.map((p) => p.slice(11, 43)).sort());
    expect(server.openUploads()).toBe(0);

    const store = await makeTempStore();
    try {
      const substituted = await substituteInto(store, all, { substituter: cache.uri, publicKeys: [formatPublicKeyNix(key.publicKey, 'flaky.cachix.org-1')] });
      expect(substituted.stderr).not.toMatch(/error/);
      expect(substituted.code).toBe(0);
      expect((await verifyStore(store)).code).toBe(0);
    } finally {
      await removeStore(store);
    }
  }, 180_000);

  it('with the stand-in down, fails after the retry bound with one line and exit 1', async () => {
    await server.addCache({ name: 'down', publicKey: formatPublicKeyNix(key.publicKey, 'down.cachix.org-1') });
    server.setDown(true);
    try {
      const started = Date.now();
      const result = await runCli(['--host', server.apiUrl, 'push', 'down', closure.top], {
        env: await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key) }),
      });
      expect(result.code).toBe(1);
      expectOneLineFailure(result, /^cachix: .*(gave up|retr)/);
      // CACHIX_RETRY_SCALE=0.01 turns the 90 s budget into 0.9 s: bounded, not endless.
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      server.setDown(false);
    }
    expect(server.listNarinfos('down')).toEqual([]);
  });

  it('retries a dropping host several times, then stops (bounded by the retry budget)', async () => {
    // A host that accepts and at once drops every connection, counting them.
    let connections = 0;
    const sockets = new Set<Socket>();
    const dropper = createServer((socket) => {
      connections += 1;
      sockets.add(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(dropper.address() as AddressInfo).port}`;
    try {
      const result = await runCli(['--host', url, 'push', 'down', closure.top], {
        env: await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key) }),
      });
      expectOneLineFailure(result, /^cachix: /);
      expect(result.code).toBe(1);
      expect(connections).toBeGreaterThanOrEqual(3);
      expect(connections).toBeLessThan(200);
    } finally {
      await new Promise<void>((resolve) => dropper.close(() => resolve()));
    }
  });
});
