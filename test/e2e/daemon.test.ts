import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey } from '../../src/nix/keys.js';
import { isolatedEnv, runCli, type CliResult } from '../support/cli.js';
import { describeNix } from '../support/nix/available.js';
import { makeTestClosure } from '../support/nix/closure.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { waitFor } from '../support/wait.js';
import { expectNixAccepts } from './helpers/nix-judge.js';

const hashOf = (path: string): string => path.slice('/nix/store/'.length, '/nix/store/'.length + 32);

describeNix('cachix daemon run / push / stop, judged by real Nix', () => {
  let server: StandIn;
  const key = generateSecretKey();
  let env: NodeJS.ProcessEnv;
  let dir: string;

  beforeAll(async () => {
    server = await startStandIn();
    env = await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key) });
    dir = await mkdtemp(join(tmpdir(), 'cachix-daemon-test-'));
  });
  afterAll(async () => {
    await server?.close();
  });

  /** Starts `daemon run CACHE --socket SOCKET` in the background; resolves once it listens. */
  async function startDaemon(cache: string, socket: string, extra: string[] = []): Promise<{ child: ChildProcess; result: Promise<CliResult>; stderr: () => string }> {
    let child: ChildProcess | undefined;
    let stderr = '';
    const result = runCli(['--host', server.apiUrl, 'daemon', 'run', '--socket', socket, ...extra, cache], {
      env,
      onSpawn: (c) => {
        child = c;
        c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      },
    });
    await waitFor(() => stderr.includes(`listening on ${socket}`) || child?.exitCode !== null, 'the daemon to listen');
    return { child: child!, result, stderr: () => stderr };
  }

  it('pushes what clients hand it (waiting or not), then finishes its queue on `daemon stop`; Nix accepts', async () => {
    const cache = await server.addCache({ name: 'daemon', publicKey: formatPublicKeyNix(key.publicKey, 'daemon.cachix.org-1') });
    const socket = join(dir, 'a.sock');
    const daemon = await startDaemon('daemon', socket);
    const [first, second] = [await makeTestClosure(), await makeTestClosure()];

    const waited = await runCli(['daemon', 'push', '--socket', socket, '--wait', first.top], { env });
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stderr).toContain(`Pushing ${first.top}`);
    // --wait returns once the whole closure is in the cache.
    for (const p of first.paths) expect(server.narinfo('daemon', hashOf(p)), p).toBeDefined();

    const handedOver = await runCli(['daemon', 'push', '-s', socket, second.top], { env });
    expect(handedOver).toMatchObject({ code: 0, stderr: '' });
    // A hook's empty $OUT_PATHS: nothing to do, and no error that would fail the build.
    expect(await runCli(['daemon', 'push', '-s', socket], { env })).toMatchObject({ code: 0, stderr: '' });
    // Paths on stdin (any whitespace between them), waited for.
    const third = await makeTestClosure();
    const piped = await runCli(['daemon', 'push', '-s', socket, '--wait'], { env, input: `${third.top}\n\t${third.paths[0]}\n` });
    expect(piped.code, piped.stderr).toBe(0);
    for (const p of third.paths) expect(server.narinfo('daemon', hashOf(p)), p).toBeDefined();

    const doctor = await runCli(['daemon', 'doctor', '-s', socket], { env });
    expect(doctor.code, doctor.stdout).toBe(0);
    expect(doctor.stdout).toMatch(new RegExp(`✓ a daemon answers on ${socket}\n  ✓ it pushes to daemon: \\d+ pushing, \\d+ in queue\n$`));

    const stopped = await runCli(['daemon', 'stop', '-s', socket], { env });
    expect(stopped.code, stopped.stderr).toBe(0);
    const result = await daemon.result;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\nDone\.\n$/);
    for (const p of second.paths) expect(server.narinfo('daemon', hashOf(p)), p).toBeDefined();
    expect(existsSync(socket)).toBe(false); // removed on exit
    const noDaemon = await runCli(['daemon', 'doctor', '-s', socket], { env });
    expect(noDaemon.code).toBe(1);
    expect(noDaemon.stdout).toMatch(/^  ✗ no cachix daemon is listening on /);
    await expectNixAccepts(cache.uri, [first.top, second.top], [formatPublicKeyNix(key.publicKey, 'daemon.cachix.org-1')]);
  });

  it('daemon stop exits 1 when a path failed; --wait reports the failure', async () => {
    await server.addCache({ name: 'daemon-fail', publicKey: formatPublicKeyNix(key.publicKey, 'daemon-fail.cachix.org-1') });
    const socket = join(dir, 'f.sock');
    const daemon = await startDaemon('daemon-fail', socket);
    const closure = await makeTestClosure();
    server.failNext({ route: 'api', kind: '403', pathIncludes: '/complete', count: 100 });
    try {
      const waited = await runCli(['daemon', 'push', '-s', socket, '--wait', closure.top], { env });
      expect(waited.code).toBe(1);
      expect(waited.stderr).toMatch(/^Failed to push \/nix\/store\/\S+: .*403/m);
      const stopped = await runCli(['daemon', 'stop', '-s', socket], { env });
      expect(stopped.code).toBe(1);
      expect(stopped.stderr).toBe('some store paths could not be pushed\n');
      expect((await daemon.result).code).toBe(1);
    } finally {
      server.setFaults(undefined);
      daemon.child.kill('SIGKILL');
    }
  });

  it('refuses a second daemon on a live socket, replaces a dead one, and clients of no daemon get one line', async () => {
    await server.addCache({ name: 'daemon-sock', publicKey: formatPublicKeyNix(key.publicKey, 'daemon-sock.cachix.org-1') });
    const socket = join(dir, 's.sock');
    const first = await startDaemon('daemon-sock', socket);
    const second = await runCli(['--host', server.apiUrl, 'daemon', 'run', '--socket', socket, 'daemon-sock'], { env });
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(`cachix: a cachix daemon is already listening on ${socket}`);

    first.child.kill('SIGKILL'); // leaves its socket file behind
    await first.result;
    expect(existsSync(socket)).toBe(true);
    const third = await startDaemon('daemon-sock', socket);
    expect(third.stderr()).toContain(`listening on ${socket}`);
    third.child.kill('SIGTERM');
    const ended = await third.result;
    expect(ended.code).toBe(0);
    expect(ended.stderr).toContain('Stopping: pushing what is queued');

    // --no-remote-stop: `daemon stop` is refused in one line, the daemon goes on until a signal.
    const pinned = await startDaemon('daemon-sock', socket, ['--no-remote-stop']);
    const refused = await runCli(['daemon', 'stop', '-s', socket], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^cachix: the daemon refused to stop: this daemon does not take stop requests/);
    expect(pinned.child.exitCode).toBeNull();
    pinned.child.kill('SIGTERM');
    expect((await pinned.result).code).toBe(0);

    const nobody = await runCli(['daemon', 'push', '-s', join(dir, 'nobody.sock'), '/nix/store/x'], { env });
    expect(nobody.code).toBe(1);
    expect(nobody.stderr.trim()).toBe(`cachix: no cachix daemon is listening on ${join(dir, 'nobody.sock')} (start one with \`cachix daemon run CACHE\`, or pass its --socket)`);
    await writeFile(join(dir, 'not-a-socket'), '');
    const notSocket = await runCli(['daemon', 'stop', '-s', join(dir, 'not-a-socket')], { env });
    expect(notSocket.code).toBe(1);
    expect(notSocket.stderr).toMatch(/^cachix: (no cachix daemon is listening|cannot reach the cachix daemon) on /);
  });
});
