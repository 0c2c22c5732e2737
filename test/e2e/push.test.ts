import { spawn } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey } from '../../src/nix/keys.js';
import { CLI, isolatedEnv, runCli } from '../support/cli.js';
import { describeNix } from '../support/nix/available.js';
import { makeTestClosure, type TestClosure } from '../support/nix/closure.js';
import { makeTempStore, removeStore, substituteInto, verifyStore } from '../support/nix/substitute.js';
import { startStandIn, type CacheHandle, type StandIn } from '../support/standin/index.js';

const TOKEN = 'tok-write-9f8e7d6c5b4a';

describeNix('cachix push against the stand-in, judged by real Nix', () => {
  let server: StandIn;
  let closure: TestClosure;
  const key = generateSecretKey();
  const otherKey = generateSecretKey();
  let signedPub: string;

  beforeAll(async () => {
    server = await startStandIn();
    closure = await makeTestClosure({ bigMB: 24 });
    signedPub = formatPublicKeyNix(key.publicKey, 'signed.cachix.org-1');
  });
  afterAll(async () => {
    await server?.close();
  });

  async function signedCache(name: string): Promise<CacheHandle> {
    return server.addCache({ name, publicKey: formatPublicKeyNix(key.publicKey, `${name}.cachix.org-1`) });
  }

  async function push(args: string[], extraEnv: NodeJS.ProcessEnv = {}, input?: string, cwd?: string) {
    const env = await isolatedEnv(extraEnv);
    return runCli(['--host', server.apiUrl, 'push', ...args], { env, ...(input === undefined ? {} : { input }), ...(cwd ? { cwd } : {}) });
  }

  /** Real Nix must substitute every path of `paths` from `cache`, trusting only `keys`. */
  async function expectNixAccepts(cache: CacheHandle, paths: string[], keys: string[]) {
    const store = await makeTempStore();
    try {
      const result = await substituteInto(store, paths, { substituter: cache.uri, publicKeys: keys });
      expect(result.stderr).not.toMatch(/error/);
      expect(result.code).toBe(0);
      const verify = await verifyStore(store);
      expect(verify.code).toBe(0);
    } finally {
      await removeStore(store);
    }
  }

  it('pushes a signed closure with CACHIX_SIGNING_KEY and no token; Nix accepts it, and refuses another key', async () => {
    const cache = await signedCache('signed');
    const result = await push(['signed', closure.top], { CACHIX_SIGNING_KEY: formatSecretKeyBare(key) });
    expect(result.stderr).toContain(`Pushing ${closure.paths.length} paths (0 are already present) using zstd to cache signed`);
    expect(result.stderr).toMatch(/\nAll done\.\n$/);
    expect(result.code).toBe(0);
    expect(server.listNarinfos('signed').sort()).toEqual(closure.paths.map((p) => p.slice(11, 43)).sort());
    expect(server.narinfo('signed', closure.top.slice(11, 43))!.sigs[0]).toMatch(/^signed\.cachix\.org-1:/);

    await expectNixAccepts(cache, [closure.top], [signedPub]);

    const store = await makeTempStore();
    try {
      const refused = await substituteInto(store, [closure.top], {
        substituter: cache.uri,
        publicKeys: [formatPublicKeyNix(otherKey.publicKey, 'signed.cachix.org-1')],
      });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('is not signed by any of the keys');
    } finally {
      await removeStore(store);
    }

    // Pushing again finds everything present and uploads nothing.
    const before = server.log.length;
    const again = await push(['signed', closure.top], { CACHIX_SIGNING_KEY: formatSecretKeyBare(key) });
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('Nothing to push - all store paths are already on Cachix.\n');
    const later = server.log.slice(before);
    expect(later.filter((e) => e.path.includes('multipart-nar'))).toEqual([]);
    expect(later.filter((e) => e.path.endsWith('/narinfo'))).toHaveLength(1);
  });

  it('pushes in token mode with the cache preferring xz; the server signs with its managed key', async () => {
    const cache = await server.addCache({ name: 'managed', managedKey: true, preferredCompressionMethod: 'XZ' });
    server.addToken(TOKEN, { managed: 'Write' });
    const result = await push(['managed', closure.top], { CACHIX_AUTH_TOKEN: TOKEN });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('using xz to cache managed');
    expect(server.narinfo('managed', closure.top.slice(11, 43))!.compression).toBe('xz');
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    await expectNixAccepts(cache, [closure.top], cache.publicSigningKeys);
    // The token went to the API, never to the presigned upload URLs.
    const uploads = server.log.filter((e) => e.route === 'upload');
    expect(uploads.length).toBeGreaterThan(0);
    expect(uploads.every((e) => e.headers.authorization === undefined)).toBe(true);
    expect(server.log.filter((e) => e.route === 'api' && e.cache === 'managed').every((e) => e.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('reads paths from stdin and resolves a ./result symlink; -m xz overrides', async () => {
    const cache = await signedCache('stdin');
    const dir = await mkdtemp(join(tmpdir(), 'cachix-result-'));
    await symlink(closure.top, join(dir, 'result'));
    const env = { CACHIX_SIGNING_KEY: formatSecretKeyBare(key) };
    const viaStdin = await push(['-m', 'xz', 'stdin'], env, `${closure.paths[0]}\n  ${closure.paths[1]}\n`);
    expect(viaStdin.code, viaStdin.stderr).toBe(0);
    expect(viaStdin.stderr).toContain('Pushing 2 paths (0 are already present) using xz');
    const viaLink = await push(['stdin', './result'], env, undefined, dir);
    expect(viaLink.code, viaLink.stderr).toBe(0);
    expect(viaLink.stderr).toContain(`Pushing ${closure.paths.length - 2} paths (2 are already present) using zstd`);
    expect(server.narinfo('stdin', closure.paths[0]!.slice(11, 43))!.compression).toBe('xz');
    expect(server.narinfo('stdin', closure.top.slice(11, 43))!.compression).toBe('zstd');
    await expectNixAccepts(cache, [closure.top], [formatPublicKeyNix(key.publicKey, 'stdin.cachix.org-1')]);
  });

  it('warns about invalid inputs and pushes the valid ones; all invalid is exit 1 with one line', async () => {
    await signedCache('invalid');
    const env = { CACHIX_SIGNING_KEY: formatSecretKeyBare(key) };
    const bogus = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-not-there';
    const mixed = await push(['invalid', bogus, '/tmp/definitely/not/here', closure.paths[0]!], env);
    expect(mixed.code).toBe(0);
    expect(mixed.stderr).toContain(`Warning: ${bogus} is not valid, skipping`);
    expect(mixed.stderr).toContain('Warning: /tmp/definitely/not/here: no such file or directory, skipping');
    expect(mixed.stderr).toContain('Pushing 1 paths');

    const none = await push(['invalid', bogus], env);
    expect(none.code).toBe(1);
    const errorLines = none.stderr.split('\n').filter((l) => l.startsWith('cachix:'));
    expect(errorLines).toEqual([`cachix: none of the given paths can be pushed: ${bogus}`]);
    expect(none.stderr).not.toMatch(/\n\s+at /);

    const empty = await push(['invalid'], env, '');
    expect(empty.code).toBe(0);
    expect(empty.stderr).toBe('Nothing to push.\n');
  });

  it('uploads a large NAR in several parts with Content-MD5 and no empty trailing part', async () => {
    const cache = await signedCache('chunked');
    const result = await push(['-s', '5M', '-n', '2', '-l', '1', 'chunked', closure.big!], { CACHIX_SIGNING_KEY: formatSecretKeyBare(key) });
    expect(result.code).toBe(0);
    const puts = server.log.filter((e) => e.route === 'upload' && e.method === 'PUT');
    expect(puts.length).toBeGreaterThanOrEqual(2);
    expect(puts.every((e) => typeof e.headers['content-md5'] === 'string' && e.headers['content-length'] !== '0')).toBe(true);
    expect(puts.every((e) => e.headers['transfer-encoding'] === undefined)).toBe(true);
    await expectNixAccepts(cache, [closure.big!], [formatPublicKeyNix(key.publicKey, 'chunked.cachix.org-1')]);
  });

  it('is refused by the stand-in when signed with a key the cache does not have', async () => {
    await signedCache('wrongkey');
    const result = await push(['wrongkey', closure.paths[0]!], { CACHIX_SIGNING_KEY: formatSecretKeyBare(otherKey) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^cachix: .*HTTP 400/);
    expect(server.listNarinfos('wrongkey')).toEqual([]);
  });

  it('completes despite 20% of API and upload requests failing (500, 429, reset, slow); Nix accepts the result', async () => {
    const cache = await signedCache('faulty');
    server.setFaults({ rate: 0.2, kinds: ['500', '429', 'reset', 'slow'], on: ['api', 'upload'], retryAfterSeconds: 1, slowMs: 200 });
    try {
      const result = await push(['faulty', closure.top, closure.big!], { CACHIX_SIGNING_KEY: formatSecretKeyBare(key) });
      expect(result.code, result.stderr).toBe(0);
      expect(server.faultLog.length).toBeGreaterThan(0);
    } finally {
      server.setFaults(undefined);
    }
    await expectNixAccepts(cache, [closure.top, closure.big!], [formatPublicKeyNix(key.publicKey, 'faulty.cachix.org-1')]);
  });

  it('fails with one line and exit 1 when neither a token nor a signing key is set', async () => {
    const result = await push(['signed', closure.top]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('neither an auth token nor a signing key');
  });

  it('reports 401 and 404 for the cache lookup with the real client messages', async () => {
    const unknown = await push(['no-such-cache', closure.top], { CACHIX_AUTH_TOKEN: TOKEN });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Binary cache no-such-cache does not exist.');
    await server.addCache({ name: 'private', isPublic: false, managedKey: true });
    const denied = await push(['private', closure.top], { CACHIX_AUTH_TOKEN: 'tok-not-known-to-server' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("cache private doesn't exist or you don't have access");
    expect(denied.stderr).not.toContain('tok-not-known-to-server');
  });

  it('shows a live display on a terminal: bars with sizes while running, a check per path, a total', async () => {
    await signedCache('tty');
    const env = await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key), TERM: 'xterm' });
    delete env.CI;
    const command = `stty cols 120 rows 40; exec ${[process.execPath, CLI, '--host', server.apiUrl, 'push', '-s', '5M', '-n', '1', 'tty', closure.top, closure.big!].map((a) => `'${a}'`).join(' ')}`;
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
      const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.on('close', (c) => resolve({ stdout: out, code: c }));
      child.stdin.end();
    });
    expect(code, stdout.slice(-2000)).toBe(0);
    const text = stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(text).toMatch(/\[[# ]{20}\] \/nix\/store\/\S+-cachix-test-big-24mb \(\d+% of 24\.\d\d MiB\)/);
    expect(text).toMatch(/\d+\/\d+ paths, [\d.]+ (B|KiB|MiB) read, [\d.]+ MiB\/s/);
    for (const path of [...closure.paths, closure.big!]) expect(text).toContain(`✓ ${path} (`);
    expect(text).toMatch(/All done\. [\d.]+ MiB in [\d.]+ s/);
  });

  it('says which package to install when the compressor is missing', async () => {
    await signedCache('nozstd');
    // A PATH with Nix but without zstd.
    const bin = await mkdtemp(join(tmpdir(), 'cachix-path-'));
    for (const tool of ['nix-store', 'nix']) await symlink(`/usr/bin/${tool}`, join(bin, tool));
    const result = await push(['nozstd', closure.big!], { CACHIX_SIGNING_KEY: formatSecretKeyBare(key), PATH: bin });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').filter((l) => l.startsWith('cachix:'))).toEqual([
      'cachix: zstd was not found on PATH (install zstd (Debian/Ubuntu: apt-get install zstd))',
    ]);
    expect(server.listNarinfos('nozstd')).toEqual([]);
  });
});
