/**
 * Bad input table: every case must fail with exit code != 0, exactly one readable line on
 * stderr (no stack trace, nothing on stdout), and leave every user file byte-identical.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSecretKeyBare, generateSecretKey } from '../../src/nix/keys.js';
import { CLI, runCli, type CliResult } from '../support/cli.js';
import { requireNix } from '../support/nix/available.js';
import { makeManyTinyPaths } from '../support/nix/closure.js';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { startFakeApi, type FakeApi } from './support/fake-api.js';
import { homeWithToken, type TestHome } from './support/home.js';
import { expectOneLineFailure } from './support/output.js';
import { snapshotTree } from './support/snapshot.js';

const TOKEN = 'tok-badinput-5a4b3c2d1e';
const READ_TOKEN = 'tok-readonly-0f9e8d7c';
const key = generateSecretKey();

let server: StandIn;
let notJson: FakeApi;
let wrongShape: FakeApi;
let paths: string[];
/** Directories whose contents every case must leave untouched (besides HOME). */
let scratch: string;

beforeAll(async () => {
  server = await startStandIn();
  await server.addCache({ name: 'managed', managedKey: true });
  await server.addCache({ name: 'public', publicKey: Buffer.alloc(32, 7).toString('base64') });
  await server.addCache({ name: 'private', isPublic: false, managedKey: true });
  server.addToken(TOKEN, { managed: 'Write', public: 'Write' });
  server.addToken(READ_TOKEN, { managed: 'Read' });
  notJson = await startFakeApi(200, 'text/html', '<html><body>Welcome to nginx!</body></html>');
  wrongShape = await startFakeApi(200, 'application/json', JSON.stringify({ name: 'managed', uri: 42, isPublic: 'yes' }));
  paths = requireNix() ? await makeManyTinyPaths(2) : ['/nix/store/00000000000000000000000000000000-none'];
  scratch = await mkdtemp(join(tmpdir(), 'cachix-badinput-'));
});

afterAll(async () => {
  await server?.close();
  await notJson?.close();
  await wrongShape?.close();
  if (scratch) {
    execFileSync('chattr', ['-R', '-i', scratch], { stdio: 'ignore' });
    await rm(scratch, { recursive: true, force: true });
  }
});

interface Case {
  name: string;
  /** argv after `cachix`; a function to use per-case directories or servers. */
  args: (c: { home: TestHome; dir: string }) => string[];
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Give the CLI a terminal as stdin (through `script`). */
  tty?: boolean;
  /** Prepare `dir` (a fresh directory inside scratch, snapshotted too). */
  setup?: (dir: string, home: TestHome) => Promise<void>;
  /** Undo what setup did that would block clean-up (e.g. chattr +i). */
  teardown?: (dir: string) => Promise<void>;
  stderr: RegExp;
  /** `Warning: X ..., skipping` lines about the same bad input may precede the error line. */
  warnings?: boolean;
  /** A product bug that is reported; the case fails until it is fixed. */
  knownBug?: string;
}

const api = () => ['--host', server.apiUrl];
const signing = { CACHIX_SIGNING_KEY: formatSecretKeyBare(key) };

const cases: Case[] = [
  { name: 'nonexistent path', args: () => [...api(), 'push', 'managed', '/tmp/cachix-no-such-file-anywhere'], stderr: /^cachix: none of the given paths can be pushed: \/tmp\/cachix-no-such-file-anywhere/, warnings: true },
  { name: 'path outside the store', args: () => [...api(), 'push', 'managed', '/etc/hostname'], stderr: /^cachix: .*\/etc\/hostname/, warnings: true },
  { name: 'not a store path (bad hash part)', args: () => [...api(), 'push', 'managed', '/nix/store/not-a-store-path'], stderr: /^cachix: .*\/nix\/store\/not-a-store-path/, warnings: true },
  { name: 'cache not found (404)', args: () => [...api(), 'push', 'no-such-cache', paths[0]!], stderr: /^cachix: Binary cache no-such-cache does not exist\./ },
  { name: 'wrong token (401)', args: () => [...api(), 'push', 'private', paths[0]!], env: { CACHIX_AUTH_TOKEN: 'tok-wrong-123456' }, stderr: /^cachix: .*private.*(access|token)/ },
  { name: 'forbidden: read-only token (403)', args: () => [...api(), 'generate-keypair', 'managed'], env: { CACHIX_AUTH_TOKEN: READ_TOKEN }, stderr: /^cachix: .*(403|permission|forbidden|access)/i },
  { name: 'malformed CACHIX_SIGNING_KEY', args: () => [...api(), 'push', 'managed', paths[0]!], env: { CACHIX_SIGNING_KEY: 'this is not base64 !!!' }, stderr: /^cachix: .*(signing key|CACHIX_SIGNING_KEY)/i },
  { name: 'signing key of the wrong length', args: () => [...api(), 'push', 'managed', paths[0]!], env: { CACHIX_SIGNING_KEY: Buffer.alloc(40, 1).toString('base64') }, stderr: /^cachix: .*(signing key|CACHIX_SIGNING_KEY)/i },
  { name: 'invalid cache name', args: () => [...api(), 'push', 'Not_A/Valid Name!', paths[0]!], env: signing, stderr: /^cachix: .*(cache name|Not_A)/i },
  {
    name: 'garbage config file',
    args: ({ dir }) => ['-c', join(dir, 'cachix.dhall'), ...api(), 'push', 'managed', paths[0]!],
    setup: (dir) => writeFile(join(dir, 'cachix.dhall'), '{ authToken = "abc", this is ]] not dhall \u0000\u0001'),
    stderr: /^cachix: .*cachix\.dhall/,
  },
  {
    name: 'unreadable config file (a directory)',
    args: ({ dir }) => ['-c', join(dir, 'confdir'), ...api(), 'push', 'managed', paths[0]!],
    setup: (dir) => mkdir(join(dir, 'confdir')),
    stderr: /^cachix: .*confdir/,
  },
  {
    name: 'nix.conf includes a file that does not exist',
    args: ({ dir }) => [...api(), 'use', 'public', '-O', dir],
    setup: (dir) => writeFile(join(dir, 'nix.conf'), 'max-jobs = 2\ninclude /nonexistent/cachix-test/extra.conf\n'),
    stderr: /^cachix: .*(extra\.conf|include)/,
  },
  {
    name: 'nix.conf includes a garbage file',
    args: ({ dir }) => [...api(), 'use', 'public', '-O', dir],
    setup: async (dir) => {
      await writeFile(join(dir, 'garbage.conf'), Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x3d, 0x3d, 0x3d, 0x0a]));
      await writeFile(join(dir, 'nix.conf'), 'max-jobs = 2\ninclude garbage.conf\n');
    },
    stderr: /^cachix: .*garbage\.conf/,
  },
  {
    name: 'unwritable nix.conf directory (chattr +i)',
    args: ({ dir }) => [...api(), 'use', 'public', '-O', dir],
    setup: async (dir) => {
      await writeFile(join(dir, 'nix.conf'), 'max-jobs = 2\n');
      execFileSync('chattr', ['+i', dir]);
    },
    teardown: async (dir) => void execFileSync('chattr', ['-i', dir]),
    stderr: /^cachix: .*nix\.conf/,
  },
  { name: 'no paths and stdin is a terminal', args: () => [...api(), 'push', 'managed'], tty: true, stderr: /^cachix: no store paths given/ },
  { name: 'unknown flag', args: () => ['push', '--frobnicate', 'managed'], stderr: /unknown option '--frobnicate'/ },
  { name: '--jobs 0', args: () => ['push', '--jobs', '0', 'managed', paths[0]!], stderr: /jobs/ },
  { name: '--jobs -3', args: () => ['push', '--jobs', '-3', 'managed', paths[0]!], stderr: /jobs/ },
  { name: 'compression level out of range', args: () => ['push', '-l', '17', 'managed', paths[0]!], stderr: /compression level/ },
  { name: 'unknown compression method', args: () => ['push', '-m', 'gzip', 'managed', paths[0]!], stderr: /compression method/ },
  { name: 'chunk size out of range', args: () => ['push', '-s', '1K', 'managed', paths[0]!], stderr: /chunk size/ },
  { name: 'server answers with non-JSON', args: () => ['--host', notJson.url, 'push', 'managed', paths[0]!], stderr: /^cachix: / },
  { name: 'server answers JSON of the wrong shape', args: () => ['--host', wrongShape.url, 'push', 'managed', paths[0]!], stderr: /^cachix: / },
  { name: 'connection refused', args: () => ['--host', 'https://127.0.0.1:1', 'push', 'managed', paths[0]!], stderr: /^cachix: .*connection refused/ },
  {
    name: 'TLS to a plain-HTTP server',
    args: () => ['--host', notJson.url.replace('http:', 'https:'), 'push', 'managed', paths[0]!],
    // Readable: no OpenSSL source paths or error codes.
    stderr: /^cachix: (?!.*(deps\/openssl|0A00010B|ssl3_)).*(TLS|SSL)/i,
  },
];

/** What Nix (run by `use` to check its version) creates in a fresh HOME by itself. */
const NIX_HOME_ENTRIES = ['.nix-defexpr', '.nix-profile', '.cache', '.local'];

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function runCase(c: Case, home: TestHome, dir: string): Promise<CliResult> {
  const args = c.args({ home, dir });
  const env = { ...home.env, ...c.env };
  if (!c.tty) return runCli(args, { env, ...(c.input === undefined ? {} : { input: c.input }) });
  // `script` runs the CLI on a fresh pseudo-terminal (so stdin.isTTY) and returns its exit code (-e).
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    // The terminal merges the CLI's stdout and stderr; all of it counts as stderr here.
    child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr: out.replace(/\r/g, '') }));
    // Keep script's own stdin open until the CLI is done: an early EOF would end the session.
    const timer = setTimeout(() => child.stdin.end(), 20_000);
    child.on('close', () => clearTimeout(timer));
  });
}

describe('bad input: one clear line, exit != 0, files untouched', () => {
  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const c of cases) {
    (c.knownBug ? it.fails : it)(c.name, async () => {
      const home = await homeWithToken(TOKEN);
      const dir = await mkdtemp(join(scratch, 'case-'));
      await chmod(dir, 0o755);
      await c.setup?.(dir, home);
      const before = { home: await snapshotTree(home.home, NIX_HOME_ENTRIES), dir: await snapshotTree(dir) };
      try {
        const result = await runCase(c, home, dir);
        if (c.warnings) {
          // Each warning names the input it skips; only the final line is the error.
          const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
          for (const line of lines.slice(0, -1)) expect(line).toMatch(/^Warning: .*, skipping$/);
          result.stderr = `${lines.at(-1) ?? ''}\n`;
        }
        expectOneLineFailure(result, c.stderr);
        expect(await snapshotTree(home.home, NIX_HOME_ENTRIES)).toEqual(before.home);
        expect(await snapshotTree(dir)).toEqual(before.dir);
      } finally {
        await c.teardown?.(dir);
      }
    });
  }
});
