/**
 * `cachix pin` against the strict stand-in with real store paths (spec §8): the exact body the
 * server receives, each local refusal before any request, and the server's refusals in one line.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isolatedEnv, runCli, type CliResult } from '../../support/cli.js';
import { describeNix } from '../../support/nix/available.js';
import { makeTestClosure, type TestClosure } from '../../support/nix/closure.js';
import { startStandIn, type StandIn } from '../../support/standin/index.js';

const WRITER = 'tok-pin-writer-7c1d2e3f';
const READER = 'tok-pin-reader-4a5b6c7d';
const UNKNOWN = 'tok-pin-unknown-9e8d7c6b';
const ALL_TOKENS = [WRITER, READER, UNKNOWN];

/** The only line of a failed run: exit 1, one `cachix:` line, no stack, no token. */
function singleErrorLine(result: CliResult): string {
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/\n\s+at /);
  for (const token of ALL_TOKENS) expect(result.stderr).not.toContain(token);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^cachix: /);
  return lines[0]!;
}

describeNix('cachix pin (stand-in, real store paths)', () => {
  let server: StandIn;
  let closure: TestClosure;
  let roots: string;

  beforeAll(async () => {
    server = await startStandIn();
    await server.addCache({ name: 'pins', managedKey: true });
    await server.addCache({ name: 'secret-pins', isPublic: false, managedKey: true });
    server.addToken(WRITER, { pins: 'Write', 'secret-pins': 'Write' });
    server.addToken(READER, { 'secret-pins': 'Read' });
    roots = await mkdtemp(join(tmpdir(), 'cachix-pin-roots-'));
    // gcRootDir: the closure stays alive, and roots/cachix-test-top is a ./result-style symlink.
    closure = await makeTestClosure({ gcRootDir: roots });
  });
  afterAll(async () => {
    await server?.close();
    if (roots) await rm(roots, { recursive: true, force: true });
  });

  async function pin(args: string[], options: { token?: string; cwd?: string } = {}): Promise<CliResult> {
    const env = await isolatedEnv(options.token === undefined ? {} : { CACHIX_AUTH_TOKEN: options.token });
    return runCli(['--host', server.apiUrl, 'pin', ...args], { env, ...(options.cwd ? { cwd: options.cwd } : {}) });
  }

  /** API requests the stand-in received for `cache` since `mark` (an index into its log). */
  const requestsSince = (mark: number, cache: string) => server.log.slice(mark).filter((e) => e.route === 'api' && e.cache === cache);

  it('pins a ./result symlink with artifacts and --keep-revisions: exactly this JSON, one request, nothing pushed', async () => {
    const mark = server.log.length;
    const result = await pin(['pins', 'release', './cachix-test-top', '-a', 'share/link-path', '--artifact', '/share/greeting-path', '--keep-revisions', '3'], {
      token: WRITER,
      cwd: roots,
    });
    expect(result.stderr).toBe(`Pinned ${closure.top} as release in pins\n`);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);

    const pins = server.pins('pins');
    expect(JSON.stringify(pins[pins.length - 1])).toBe(
      JSON.stringify({ name: 'release', storePath: closure.top, artifacts: ['share/link-path', '/share/greeting-path'], keep: { tag: 'Revisions', contents: 3 } }),
    );
    const requests = requestsSince(mark, 'pins');
    expect(requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /api/v1/cache/pins/pin 200']);
    expect(requests[0]!.headers.authorization).toBe(`Bearer ${WRITER}`);
    expect(requests[0]!.headers['content-type']).toMatch(/^application\/json/);
    expect(server.listNarinfos('pins')).toEqual([]);
  });

  it.each([
    { flag: 'no keep flag', args: [], keep: null },
    { flag: '--keep-days 30', args: ['--keep-days', '30'], keep: { tag: 'Days', contents: 30 } },
    { flag: '--keep-revisions 1', args: ['--keep-revisions', '1'], keep: { tag: 'Revisions', contents: 1 } },
    { flag: '--keep-forever', args: ['--keep-forever'], keep: { tag: 'Forever' } },
  ])('$flag is sent as keep $keep', async ({ flag, args, keep }) => {
    const name = `keep-${flag.replace(/\W+/g, '-')}`;
    const result = await pin(['pins', name, closure.top, ...args], { token: WRITER });
    expect(result.stderr).toBe(`Pinned ${closure.top} as ${name} in pins\n`);
    expect(result.code).toBe(0);
    expect(server.pins('pins').filter((p) => p.name === name)).toEqual([{ name, storePath: closure.top, artifacts: [], keep }]);
  });

  it('a path inside a store path pins the store path itself', async () => {
    const result = await pin(['pins', 'inner', `${closure.top}/share/self-path`], { token: WRITER });
    expect(result.code).toBe(0);
    expect(server.pins('pins').find((p) => p.name === 'inner')!.storePath).toBe(closure.top);
  });

  it('without a token: one line telling how to set one, and no request', async () => {
    const mark = server.log.length;
    const line = singleErrorLine(await pin(['pins', 'x', closure.top]));
    expect(line).toMatch(/auth token is required/);
    expect(line).toContain('CACHIX_AUTH_TOKEN');
    expect(line).toContain('cachix authtoken');
    expect(server.log.length).toBe(mark);
  });

  it('store paths that cannot be pinned: one line each, exit 1, no request', async () => {
    const outside = join(roots, 'not-in-store.txt');
    await writeFile(outside, 'plain file\n');
    const neverBuilt = `/nix/store/${'0'.repeat(32)}-never-built`;
    const mark = server.log.length;
    expect(singleErrorLine(await pin(['pins', 'x', './no-such-result'], { token: WRITER, cwd: roots }))).toBe(
      'cachix: cannot pin ./no-such-result: no such file or directory',
    );
    expect(singleErrorLine(await pin(['pins', 'x', outside], { token: WRITER }))).toBe(`cachix: cannot pin ${outside}: not in the Nix store (/nix/store)`);
    expect(singleErrorLine(await pin(['pins', 'x', neverBuilt], { token: WRITER }))).toBe(
      `cachix: cannot pin ${neverBuilt}: not a valid path in the Nix store (not built yet, or garbage-collected)`,
    );
    expect(server.log.length).toBe(mark);
  });

  it('artifacts must be files inside the store path: missing, a directory, or outside it fail before any request', async () => {
    const mark = server.log.length;
    expect(singleErrorLine(await pin(['pins', 'x', closure.top, '-a', 'share/link-path', '-a', 'bin/missing'], { token: WRITER }))).toBe(
      `cachix: artifact bin/missing does not exist: there is no ${closure.top}/bin/missing`,
    );
    expect(singleErrorLine(await pin(['pins', 'x', closure.top, '-a', '/share'], { token: WRITER }))).toBe(
      `cachix: artifact /share is not a file: ${closure.top}/share`,
    );
    expect(singleErrorLine(await pin(['pins', 'x', closure.top, '-a', 'share/../../other'], { token: WRITER }))).toBe(
      `cachix: artifact share/../../other points outside ${closure.top}`,
    );
    expect(server.log.length).toBe(mark);
  });

  it('retention flags: at most one, with a positive whole number', async () => {
    const mark = server.log.length;
    expect(singleErrorLine(await pin(['pins', 'x', closure.top, '--keep-days', '3', '--keep-forever'], { token: WRITER }))).toBe(
      'cachix: --keep-days and --keep-forever cannot be used together: give at most one of --keep-days, --keep-revisions, --keep-forever',
    );
    expect(singleErrorLine(await pin(['pins', 'x', closure.top, '--keep-days', '3', '--keep-revisions', '2'], { token: WRITER }))).toMatch(
      /--keep-days and --keep-revisions cannot be used together/,
    );
    for (const bad of ['0', 'ten', '1.5', '-2']) {
      expect(singleErrorLine(await pin(['pins', 'x', closure.top, `--keep-days=${bad}`], { token: WRITER }))).toBe(
        `cachix: --keep-days must be a positive whole number, got "${bad}"`,
      );
    }
    expect(server.log.length).toBe(mark);
  });

  it('server refusals read as a cache lookup (spec §1.5): 401 unknown token, 403 read-only token, 404 unknown cache', async () => {
    expect(singleErrorLine(await pin(['secret-pins', 'x', closure.top], { token: UNKNOWN }))).toMatch(
      /^cachix: cache secret-pins doesn't exist or you don't have access\. Error: /,
    );
    expect(singleErrorLine(await pin(['secret-pins', 'x', closure.top], { token: READER }))).toBe(
      'cachix: your token does not have access to cache secret-pins (pinning needs a token with Write permission on the cache)',
    );
    expect(singleErrorLine(await pin(['no-such-cache', 'x', closure.top], { token: WRITER }))).toBe('cachix: Binary cache no-such-cache does not exist.');
    expect(server.pins('secret-pins')).toEqual([]);
  });

  it('a local cache directory cannot take pins', async () => {
    expect(singleErrorLine(await pin([`file://${roots}`, 'x', closure.top], { token: WRITER }))).toBe(
      `cachix: pin works with caches on a Cachix server; file://${roots} is a local directory`,
    );
  });
});
