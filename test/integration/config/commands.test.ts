import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run as authtoken } from '../../../src/commands/authtoken.js';
import { run as configCommand } from '../../../src/commands/config.js';
import { parseConfigText, renderConfig } from '../../../src/config/dhall.js';
import { CachixError } from '../../../src/errors.js';
import { fakeContext, tempDir } from './fake-context.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const exec = promisify(execFile);

let dir: string;
let configPath: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  configPath = join(dir, 'cachix.dhall');
});
afterEach(async () => cleanup());

const SECRET = Buffer.alloc(64, 4).toString('base64');
const EXISTING = renderConfig({ authToken: 'old', hostname: 'http://127.0.0.1:7', binaryCaches: [{ name: 'c', secretKey: SECRET }] });

async function failure(promise: Promise<unknown>): Promise<CachixError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CachixError);
  return error as CachixError;
}

describe('authtoken (run)', () => {
  it('replaces only the token, keeps the other fields, prints where it wrote and never the token', async () => {
    await writeFile(configPath, EXISTING);
    const ctx = fakeContext({ configPath, stdinIsTTY: true });
    expect(await authtoken(ctx, { token: 'new-token', stdin: false })).toBe(0);
    expect(parseConfigText(await readFile(configPath, 'utf8'), configPath)).toEqual({
      authToken: 'new-token',
      hostname: 'http://127.0.0.1:7',
      binaryCaches: [{ name: 'c', secretKey: SECRET }],
    });
    expect(ctx.out()).toBe(`Written to ${configPath}\n`);
    expect(ctx.err()).toBe('');
  });

  it('reads and trims stdin with --stdin, and reads piped stdin without it', async () => {
    await authtoken(fakeContext({ configPath, stdin: '  tok-a\r\n\n' }), { stdin: true });
    expect(parseConfigText(await readFile(configPath, 'utf8'), configPath).authToken).toBe('tok-a');
    await authtoken(fakeContext({ configPath, stdin: 'tok-b\n', stdinIsTTY: false }), { stdin: false });
    expect(parseConfigText(await readFile(configPath, 'utf8'), configPath).authToken).toBe('tok-b');
  });

  it.each([
    [{ stdin: true }, { stdin: '  \n' }, 'the auth token is empty'],
    [{ token: '', stdin: false }, { stdinIsTTY: true }, 'the auth token is empty'],
    [{ stdin: false }, { stdinIsTTY: true }, 'no auth token given'],
    [{ token: 't', stdin: true }, { stdin: 'u' }, 'not both'],
    [{ stdin: true }, { stdin: 'one\ntwo\n' }, 'whitespace inside'],
  ])('%j with %j fails: %s, leaving the file alone', async (args, io, fragment) => {
    await writeFile(configPath, EXISTING);
    const error = await failure(authtoken(fakeContext({ configPath, ...io }), args));
    expect(error.message).toContain(fragment);
    expect(await readFile(configPath, 'utf8')).toBe(EXISTING);
  });

  it('refuses to overwrite a config file it cannot parse', async () => {
    await writeFile(configPath, '{ authToken = "x", oops }');
    const error = await failure(authtoken(fakeContext({ configPath }), { token: 't', stdin: false }));
    expect(error.message).toMatch(/^cannot parse config file .* at 1:25: expected "=" after field name "oops"$/);
    expect(await readFile(configPath, 'utf8')).toBe('{ authToken = "x", oops }');
  });
});

describe('config get/set hostname (run)', () => {
  it('gets the default, sets a validated URL, and gets it back', async () => {
    const get = fakeContext({ configPath });
    await configCommand(get, { action: 'get', key: 'hostname' });
    expect(get.out()).toBe('https://cachix.org\n');

    await writeFile(configPath, EXISTING);
    const set = fakeContext({ configPath });
    await configCommand(set, { action: 'set', key: 'hostname', value: 'http://127.0.0.1:9/' });
    expect(set.out()).toBe(`Written to ${configPath}\n`);
    const config = parseConfigText(await readFile(configPath, 'utf8'), configPath);
    expect(config).toEqual({ authToken: 'old', hostname: 'http://127.0.0.1:9', binaryCaches: [{ name: 'c', secretKey: SECRET }] });

    const again = fakeContext({ configPath, hostOverride: 'http://ignored' });
    await configCommand(again, { action: 'get', key: 'hostname' });
    expect(again.out()).toBe('http://127.0.0.1:9\n');
  });

  it.each([
    [{ action: 'set', key: 'hostname', value: 'not a url' }, 'invalid host'],
    [{ action: 'set', key: 'hostname', value: 'ftp://x' }, 'only http and https'],
    [{ action: 'set', key: 'hostname' }, 'needs a value'],
    [{ action: 'get', key: 'authToken' }, 'unknown config key "authToken"'],
    [{ action: 'delete', key: 'hostname' }, 'unknown config action "delete"'],
    [{ action: 'get', key: 'hostname', value: 'x' }, 'takes no value'],
  ])('%j fails: %s', async (args, fragment) => {
    await writeFile(configPath, EXISTING);
    const error = await failure(configCommand(fakeContext({ configPath }), args));
    expect(error.message).toContain(fragment);
    expect(await readFile(configPath, 'utf8')).toBe(EXISTING);
  });
});

describe('the built CLI', () => {
  beforeAll(async () => {
    // Other modules may be mid-edit; tsc still emits, and the assertions below tell.
    await exec('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT }).catch(() => undefined);
  }, 120_000);

  function cli(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolvePromise) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/cachix'), ...args], {
        env: { PATH: process.env.PATH, HOME: dir },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
      child.stdin.end(stdin);
    });
  }

  it('authtoken --stdin stores the piped token with mode 0600', async () => {
    const path = join(dir, 'sub', 'cachix.dhall');
    const result = await cli(['-c', path, 'authtoken', '--stdin'], 'piped-secret-token\n');
    expect(result).toEqual({ code: 0, stdout: `Written to ${path}\n`, stderr: '' });
    expect(parseConfigText(await readFile(path, 'utf8'), path).authToken).toBe('piped-secret-token');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('uses $XDG_CONFIG_HOME/cachix/cachix.dhall by default, and a relative -c is made absolute', async () => {
    const xdg = join(dir, 'xdg');
    await mkdir(xdg);
    const child = await new Promise<{ code: number | null; stdout: string }>((done) => {
      const p = spawn(process.execPath, [join(ROOT, 'bin/cachix'), 'authtoken', 'arg-token'], {
        env: { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: xdg },
        cwd: dir,
      });
      let stdout = '';
      p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      p.on('close', (code) => done({ code, stdout }));
      p.stdin.end();
    });
    expect(child).toEqual({ code: 0, stdout: `Written to ${join(xdg, 'cachix', 'cachix.dhall')}\n` });
  });

  it('an empty token on stdin is one error line and exit 1', async () => {
    const result = await cli(['-c', configPath, 'authtoken', '--stdin'], '\n');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('the auth token is empty');
  });

  it('config set/get hostname round-trips through the file', async () => {
    expect((await cli(['-c', configPath, 'config', 'set', 'hostname', 'http://127.0.0.1:5'], '')).code).toBe(0);
    expect(await cli(['-c', configPath, 'config', 'get', 'hostname'], '')).toEqual({ code: 0, stdout: 'http://127.0.0.1:5\n', stderr: '' });
  });
});
