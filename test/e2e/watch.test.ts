import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey } from '../../src/nix/keys.js';
import { isolatedEnv, runCli, type CliResult } from '../support/cli.js';
import { describeNix } from '../support/nix/available.js';
import { prepareTestClosureBuild } from '../support/nix/closure.js';
import { cleanNixEnv, runOk } from '../support/nix/run.js';
import { startStandIn, type CacheHandle, type StandIn } from '../support/standin/index.js';
import { waitFor } from '../support/wait.js';
import { expectNixAccepts } from './helpers/nix-judge.js';

/** The last line of a watch command that finished its queue. */
const DONE = /(^|\n)Done(\.|, but \d+ paths? could not be pushed \(see above\)\.)\n$/;
const hashOf = (path: string): string => path.slice('/nix/store/'.length, '/nix/store/'.length + 32);

/**
 * Other test files build and delete store paths at the same time, and a watcher sees those too:
 * the assertions are about this test's closure, and tolerate failures of other paths only.
 */
function expectNoFailureFor(stderr: string, paths: readonly string[]): void {
  for (const line of stderr.split('\n').filter((l) => l.startsWith('Failed to push'))) {
    for (const path of paths) expect(line).not.toContain(path);
  }
}

describeNix('watch-store and watch-exec, judged by real Nix', () => {
  let server: StandIn;
  const key = generateSecretKey();
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startStandIn();
    env = await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key) });
  });
  afterAll(async () => {
    await server?.close();
  });

  const cache = (name: string): Promise<CacheHandle> => server.addCache({ name, publicKey: formatPublicKeyNix(key.publicKey, `${name}.cachix.org-1`) });
  const publicKey = (name: string): string => formatPublicKeyNix(key.publicKey, `${name}.cachix.org-1`);
  const closureOf = async (top: string): Promise<string[]> => (await runOk('nix-store', ['--query', '--requisites', top])).trim().split('\n');

  /** Starts `watch-store CACHE` and resolves once it watches; `stderr()` is what it printed so far. */
  async function startWatchStore(name: string): Promise<{ child: ChildProcess; result: Promise<CliResult>; stderr: () => string }> {
    let child: ChildProcess | undefined;
    let stderr = '';
    const result = runCli(['--host', server.apiUrl, 'watch-store', name], {
      env,
      onSpawn: (c) => {
        child = c;
        c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      },
    });
    await waitFor(() => stderr.includes('Watching /nix/store for new store paths ...') || child?.exitCode !== null, 'the watcher to start');
    return { child: child!, result, stderr: () => stderr };
  }

  it('watch-store pushes what a build registers, then finishes its queue on SIGINT; Nix substitutes the closure', async () => {
    const handle = await cache('watched');
    const watcher = await startWatchStore('watched');
    const build = await prepareTestClosureBuild();
    try {
      const top = (await runOk('nix-build', build.args, { env: cleanNixEnv() })).trim().split('\n').pop()!;
      const closure = await closureOf(top);
      await waitFor(() => closure.every((p) => server.narinfo('watched', hashOf(p)) !== undefined), 'the closure to reach the cache');
      watcher.child.kill('SIGINT');
      const result = await watcher.result;
      expect(result.stderr).toContain('Stopped watching /nix/store');
      expect(result.stderr).toMatch(DONE);
      expectNoFailureFor(result.stderr, closure);
      expect(result.stderr).not.toMatch(/^\s+at /m); // no stack trace
      expect(result.stderr).toContain(`Pushing ${top}`);
      await expectNixAccepts(handle.uri, [top], [publicKey('watched')]);
    } finally {
      watcher.child.kill('SIGKILL');
      await build.cleanup();
    }
  });

  it('watch-store says what is left every second while it drains; a second SIGINT aborts the uploads (exit 130)', async () => {
    await cache('abort');
    server.setFaults({ rate: 1, kinds: ['slow'], on: ['upload'], slowMs: 30_000 });
    const watcher = await startWatchStore('abort');
    const build = await prepareTestClosureBuild();
    try {
      await runOk('nix-build', build.args, { env: cleanNixEnv() });
      await waitFor(() => watcher.stderr().includes('Pushing /nix/store/'), 'an upload to start');
      watcher.child.kill('SIGINT');
      await waitFor(() => /Waiting to finish: [1-9]\d* pushing, \d+ in queue/.test(watcher.stderr()), 'a progress line', 10_000);
      watcher.child.kill('SIGINT');
      const result = await watcher.result;
      expect(result.code).toBe(130);
      expect(result.stderr.trim().split('\n').pop()).toBe('cachix: interrupted by a second SIGINT; in-flight uploads were aborted');
      expect(server.openUploads()).toBe(0); // aborted, not left behind
    } finally {
      server.setFaults(undefined);
      watcher.child.kill('SIGKILL');
      await build.cleanup();
    }
  });

  it('watch-store outlives a server that is down: the batch fails in one line, the watcher goes on, exit 1 after draining', async () => {
    await cache('down');
    const watcher = await startWatchStore('down');
    const build = await prepareTestClosureBuild();
    try {
      server.setDown(true);
      await runOk('nix-build', build.args, { env: cleanNixEnv() });
      await waitFor(() => /^Failed to push \d+ paths? \(\/nix\/store\/.*\): .*connection/m.test(watcher.stderr()), 'the failure to be reported', 30_000);
      expect(watcher.child.exitCode).toBeNull(); // still watching
      watcher.child.kill('SIGINT');
      const result = await watcher.result;
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/\nDone, but \d+ paths? could not be pushed \(see above\)\.\n$/);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    } finally {
      server.setDown(false);
      watcher.child.kill('SIGKILL');
      await build.cleanup();
    }
  });

  for (const mode of ['auto', 'store'] as const) {
    it(`watch-exec (${mode === 'auto' ? 'auto: a post-build hook, root being trusted' : 'store'}) runs the build with its stdout kept, pushes its closure, exits with its code`, async () => {
      const name = `exec-${mode}`;
      const handle = await cache(name);
      const build = await prepareTestClosureBuild();
      try {
        // No `--`: everything after the command name belongs to it, options included (-A, -o).
        const modeArgs = mode === 'auto' ? [] : ['--watch-mode', 'store'];
        const result = await runCli(['--host', server.apiUrl, 'watch-exec', ...modeArgs, name, 'nix-build', ...build.args], { env });
        expect(result.code, result.stderr).toBe(0);
        const top = result.stdout.trim().split('\n').pop()!;
        expect(top).toMatch(/^\/nix\/store\/[0-9a-z]{32}-cachix-test-top$/);
        // Nix says when it runs the hook: only in hook mode.
        expect(result.stderr.includes("running post-build-hook '")).toBe(mode === 'auto');
        const closure = await closureOf(top);
        expectNoFailureFor(result.stderr, closure);
        expect(result.stderr).toMatch(DONE);
        for (const path of closure) expect(server.narinfo(name, hashOf(path)), path).toBeDefined();
        await expectNixAccepts(handle.uri, [top], [publicKey(name)]);
      } finally {
        await build.cleanup();
      }
    });
  }

  it("watch-exec exits with a failing command's code, and with 127 and one line when there is no such command", async () => {
    await cache('exit-codes');
    const failing = await runCli(['--host', server.apiUrl, 'watch-exec', 'exit-codes', '--', 'sh', '-c', 'echo out; exit 3'], { env });
    expect(failing.code).toBe(3);
    expect(failing.stdout).toBe('out\n');
    // `daemon watch-exec` is the same command, as in the real client.
    const viaDaemon = await runCli(['--host', server.apiUrl, 'daemon', 'watch-exec', 'exit-codes', '--', 'sh', '-c', 'exit 4'], { env });
    expect(viaDaemon.code).toBe(4);
    const missing = await runCli(['--host', server.apiUrl, 'watch-exec', 'exit-codes', 'no-such-command-xyz'], { env });
    expect(missing.code).toBe(127);
    expect(missing.stderr.trim().split('\n').pop()).toBe('cachix: cannot run no-such-command-xyz: command not found');
  });

  it('watch-exec passes SIGTERM on to the command and still finishes the queue', async () => {
    await cache('term');
    let child: ChildProcess | undefined;
    let stdout = '';
    const running = runCli(['--host', server.apiUrl, 'watch-exec', 'term', '--', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done'], {
      env,
      onSpawn: (c) => {
        child = c;
        c.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      },
    });
    await waitFor(() => stdout.includes('ready'), 'the command to start', 10_000);
    child!.kill('SIGTERM');
    const result = await running;
    expect(result.stdout).toContain('got-term');
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(DONE);
  });
});
