/**
 * The store changing under a push: a path garbage-collected between planning and its
 * upload, and a path whose contents no longer match the Nix database. Each gives one clear
 * line naming the path, and nothing is registered for it.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey } from '../../src/nix/keys.js';
import { isolatedEnv, runCli, type CliResult } from '../support/cli.js';
import { describeNix } from '../support/nix/available.js';
import { makeManyTinyPaths } from '../support/nix/closure.js';
import { run, runOk } from '../support/nix/run.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { errorLines, expectNoStackTrace } from './support/output.js';
import { waitFor } from '../support/wait.js';

const key = generateSecretKey();

/** n fresh content-addressed store paths of 2 MiB random bytes each (`nix-store --add`). */
async function addLargePaths(n: number): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cachix-large-'));
  try {
    const files: string[] = [];
    for (let i = 0; i < n; i++) {
      const file = join(dir, `cachix-large-${i}`);
      await writeFile(file, randomBytes(2 * 1024 * 1024));
      files.push(file);
    }
    return (await runOk('nix-store', ['--add', ...files])).trim().split('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describeNix('store paths that change during a push', () => {
  let server: StandIn;
  const leftovers: string[] = [];

  beforeAll(async () => {
    server = await startStandIn();
  });
  afterAll(async () => {
    await server?.close();
    // Corrupted or half-deleted test paths must not stay in the machine's store.
    for (const path of leftovers) {
      await run('chmod', ['-R', 'u+w', path]);
      await run('nix-store', ['--delete', path]);
    }
  });

  async function signedCache(name: string) {
    return server.addCache({ name, publicKey: formatPublicKeyNix(key.publicKey, `${name}.cachix.org-1`) });
  }

  it('a path deleted after planning, before its turn: one line naming it, no narinfo for it', async () => {
    await signedCache('gc');
    // Over 1 MiB each: the engine runs small NARs many at once, large ones `-j` at a time.
    const [first, second] = await addLargePaths(2);
    leftovers.push(first!, second!);
    // Hold the first upload (its createMultipart answers after 4 s) while we delete the other path.
    server.setFaults({ rate: 0, kinds: ['slow'], slowMs: 4000 });
    server.failNext({ route: 'api', kind: 'slow', method: 'POST', pathIncludes: '/multipart-nar' });
    let stderr = '';
    const logStart = server.log.length;
    const pushing = runCli(['--host', server.apiUrl, 'push', '-j', '1', 'gc', first!, second!], {
      env: await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key) }),
      onSpawn: (child) => child.stderr!.on('data', (b: Buffer) => (stderr += b.toString())),
    });
    let result: CliResult;
    let target = '';
    try {
      await waitFor(
        () => server.log.slice(logStart).some((e) => e.method === 'POST' && e.path.endsWith('/multipart-nar') && e.status === 0),
        'the held createMultipart request',
        30_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}; stderr: ${stderr}; log: ${server.log.slice(logStart).map((l) => `${l.method} ${l.path} ${l.status}`).join(', ')}`);
      });
      const started = /Pushing (\/nix\/store\/\S+)/.exec(stderr.split('\n').find((l) => l.startsWith('Pushing /nix/store/')) ?? '');
      expect(started).not.toBeNull();
      target = started![1] === first ? second! : first!;
      await runOk('nix-store', ['--delete', target]);
      result = await pushing;
    } finally {
      server.setFaults(undefined);
    }
    const { code: stillValid } = await run('nix-store', ['--check-validity', target]);
    expect(stillValid, 'the target was deleted').not.toBe(0);
    expect(result.code, `target ${target}; stderr: ${result.stderr}`).toBe(1);
    const lines = errorLines(result.stderr);
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toContain(target);
    expect(lines[0]).toMatch(/removed|garbage|no longer|No such file/i);
    expectNoStackTrace(result.stderr);
    expect(server.narinfo('gc', target.slice(11, 43))).toBeUndefined();
    expect(server.openUploads()).toBe(0);
  }, 60_000);

  it('a corrupted path (contents differ from the database): one line naming it, nothing registered', async () => {
    await signedCache('corrupt');
    const [path] = await makeManyTinyPaths(1);
    leftovers.push(path!);
    // `nix-store --add` of a file: the store path is that file. Append one byte behind Nix's back.
    await chmod(path!, 0o644);
    await appendFile(path!, 'X');
    await chmod(path!, 0o444);
    const result = await runCli(['--host', server.apiUrl, 'push', 'corrupt', path!], {
      env: await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key) }),
    });
    expect(result.code).toBe(1);
    const lines = errorLines(result.stderr);
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toContain(path!);
    expect(lines[0]).toMatch(/hash mismatch|corrupt/i);
    expectNoStackTrace(result.stderr);
    // Not retried: a corrupted path stays corrupted.
    expect(result.stderr).not.toMatch(/retrying/);
    expect(server.narinfo('corrupt', path!.slice(11, 43))).toBeUndefined();
    expect(server.listNarinfos('corrupt')).toEqual([]);
    expect(server.log.some((e) => e.cache === 'corrupt' && e.path.endsWith('/complete'))).toBe(false);
    expect(server.openUploads()).toBe(0);
  });
});
