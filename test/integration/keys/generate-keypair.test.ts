import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run as create } from '../../../src/commands/create.js';
import { run as generateKeypair } from '../../../src/commands/generate-keypair.js';
import { parseConfigText, renderConfig } from '../../../src/config/dhall.js';
import { CachixError } from '../../../src/errors.js';
import { parsePublicKeyNix, parseSecretKey, signBytes, verifyBytes } from '../../../src/nix/keys.js';
import { fakeContext, tempDir } from '../config/fake-context.js';
import { recordingServer } from './recording-server.js';

let dir: string;
let configPath: string;
let cleanup: () => Promise<void>;
let server: Awaited<ReturnType<typeof recordingServer>>;
let answer: { status: number; body?: string };

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  configPath = join(dir, 'cfg', 'cachix.dhall');
  answer = { status: 200 };
  server = await recordingServer(() => answer);
});
afterEach(async () => {
  await server.close();
  await cleanup();
});

const OTHER_SECRET = Buffer.alloc(64, 3).toString('base64');

async function writeConfig(authToken: string, binaryCaches = [{ name: 'other', secretKey: OTHER_SECRET }]): Promise<string> {
  const text = renderConfig({ authToken, hostname: server.url, binaryCaches });
  await mkdir(join(dir, 'cfg'), { recursive: true });
  await writeFile(configPath, text);
  return text;
}

async function expectFailure(promise: Promise<unknown>): Promise<CachixError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CachixError);
  expect((error as Error).message).not.toContain('\n');
  return error as CachixError;
}

describe('generate-keypair CACHE (Cachix server)', () => {
  it('registers the public key, then stores the matching secret and prints the guidance', async () => {
    await writeConfig('cfg-token');
    const ctx = fakeContext({ configPath });
    expect(await generateKeypair(ctx, { cache: 'mycache' })).toBe(0);

    expect(server.requests).toHaveLength(1);
    const request = server.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/api/v1/cache/mycache/key');
    expect(request.headers.authorization).toBe('Bearer cfg-token');
    expect(request.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(request.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['publicKey']);
    const publicKey = Buffer.from(body.publicKey as string, 'base64');
    expect(publicKey.length).toBe(32);

    const config = parseConfigText(await readFile(configPath, 'utf8'), configPath);
    expect(config.authToken).toBe('cfg-token');
    expect(config.binaryCaches.map((c) => c.name)).toEqual(['other', 'mycache']);
    const stored = config.binaryCaches[1]!.secretKey;
    expect(stored).toMatch(/^[A-Za-z0-9+/]{86}==$/); // bare base64, as the real client stores it
    const key = parseSecretKey(stored, 'test');
    expect(key.publicKey.equals(publicKey)).toBe(true);
    expect(verifyBytes(publicKey, 'm', signBytes(key, 'm'))).toBe(true);
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);

    const out = ctx.out();
    expect(out).toContain(`Written to ${configPath}\n`);
    expect(out).toContain('nix-build | cachix push mycache');
    expect(out).toContain(`export CACHIX_SIGNING_KEY=${stored}`);
    expect(out).toContain('cachix use mycache');
    expect(out).toMatch(/backup/i);
    expect(out).not.toContain('cfg-token');
    expect(ctx.err()).toBe('');
  });

  it('does not persist a token that came from CACHIX_AUTH_TOKEN', async () => {
    await writeConfig('');
    const ctx = fakeContext({ configPath, env: { CACHIX_AUTH_TOKEN: 'env-token' } });
    await generateKeypair(ctx, { cache: 'c' });
    expect(server.requests[0]!.headers.authorization).toBe('Bearer env-token');
    const text = await readFile(configPath, 'utf8');
    expect(text).not.toContain('env-token');
    expect(parseConfigText(text, configPath).authToken).toBe('');
  });

  it('replaces an existing entry of the same name instead of adding a second one', async () => {
    await writeConfig('t', [
      { name: 'c', secretKey: 'old-1' },
      { name: 'other', secretKey: OTHER_SECRET },
      { name: 'c', secretKey: 'old-2' },
    ]);
    await generateKeypair(fakeContext({ configPath }), { cache: 'c' });
    const caches = parseConfigText(await readFile(configPath, 'utf8'), configPath).binaryCaches;
    expect(caches.map((c) => c.name)).toEqual(['c', 'other']);
    expect(caches[0]!.secretKey).not.toMatch(/^old/);
  });

  it('leaves the config byte-identical when the server refuses the key, in one line', async () => {
    const before = await writeConfig('t');
    answer = { status: 409, body: 'A public signing key already exists. Multiple keys are not supported.\nmore detail' };
    const ctx = fakeContext({ configPath });
    const error = await expectFailure(generateKeypair(ctx, { cache: 'taken' }));
    expect(error.message).toBe(
      'the server refused the new signing key for cache taken (HTTP 409): A public signing key already exists. Multiple keys are not supported.',
    );
    expect(await readFile(configPath, 'utf8')).toBe(before);
    expect(ctx.out()).toBe('');
  });

  it('fails in one line, before any request, without a token', async () => {
    const before = await writeConfig('');
    const error = await expectFailure(generateKeypair(fakeContext({ configPath }), { cache: 'c' }));
    expect(error.message).toBe('an auth token is required for this command');
    expect(error.hint).toContain('cachix authtoken');
    expect(server.requests).toHaveLength(0);
    expect(await readFile(configPath, 'utf8')).toBe(before);
  });

  it('rejects an invalid cache name before any request', async () => {
    await writeConfig('t');
    const error = await expectFailure(generateKeypair(fakeContext({ configPath }), { cache: 'Bad_Name' }));
    expect(error.message).toContain('invalid cache name "Bad_Name"');
    expect(server.requests).toHaveLength(0);
  });
});

describe('generate-keypair file:///dir (local cache)', () => {
  it('needs no token or server and stores a Nix-form key under the normalised URL', async () => {
    const cacheDir = join(dir, 'my cache');
    const ctx = fakeContext({ configPath });
    expect(await generateKeypair(ctx, { cache: `${cacheDir}/` })).toBe(0);
    expect(server.requests).toHaveLength(0);

    const url = 'file://' + cacheDir.replace(' ', '%20');
    const config = parseConfigText(await readFile(configPath, 'utf8'), configPath);
    expect(config.binaryCaches).toHaveLength(1);
    expect(config.binaryCaches[0]!.name).toBe(url);
    const secret = config.binaryCaches[0]!.secretKey;
    expect(secret.startsWith('my-cache-1:')).toBe(true);
    const key = parseSecretKey(secret, 'test');

    const out = ctx.out();
    const publicLine = /^ {4}(my-cache-1:\S+)$/m.exec(out)?.[1];
    expect(publicLine).toBeDefined();
    const publicKey = parsePublicKeyNix(publicLine!);
    expect(publicKey.key.equals(key.publicKey)).toBe(true);
    expect(out).toContain(`extra-trusted-public-keys = ${publicLine}`);
    expect(out).toContain(`cachix push ${url}`);
    expect(out).toContain(`cachix use ${url}`);
    expect(out).toContain(`Written to ${configPath}`);
  });

  it('refuses to overwrite the only copy of an existing local key', async () => {
    const url = `file://${dir}/c`;
    const before = await writeConfig('', [{ name: url, secretKey: 'c-1:keep-me' }]);
    const error = await expectFailure(generateKeypair(fakeContext({ configPath }), { cache: url }));
    expect(error.message).toContain(`already holds a signing key for ${url}`);
    expect(await readFile(configPath, 'utf8')).toBe(before);
  });
});

describe('create CACHE', () => {
  it('posts the §5 body with the local public key and stores the secret afterwards', async () => {
    await writeConfig('tok');
    const ctx = fakeContext({ configPath });
    expect(await create(ctx, { cache: 'newcache', isPrivate: false })).toBe(0);
    expect(server.requests).toHaveLength(1);
    const request = server.requests[0]!;
    expect([request.method, request.url, request.headers.authorization]).toEqual(['POST', '/api/v1/cache/newcache', 'Bearer tok']);
    const body = JSON.parse(request.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['githubOrganization', 'githubTeamId', 'isPublic', 'publicSigningKey']);
    expect([body.isPublic, body.githubOrganization, body.githubTeamId]).toEqual([true, null, null]);

    const config = parseConfigText(await readFile(configPath, 'utf8'), configPath);
    const entry = config.binaryCaches.find((c) => c.name === 'newcache');
    expect(parseSecretKey(entry!.secretKey, 'test').publicKey.toString('base64')).toBe(body.publicSigningKey);
    expect(ctx.out()).toContain('Created public cache newcache.');
    expect(ctx.out()).toContain('cachix use newcache');
  });

  it('sends isPublic false with --private', async () => {
    await writeConfig('tok');
    await create(fakeContext({ configPath }), { cache: 'secret-cache', isPrivate: true });
    expect((JSON.parse(server.requests[0]!.body) as { isPublic: boolean }).isPublic).toBe(false);
  });

  it('leaves the config untouched when the server refuses', async () => {
    const before = await writeConfig('tok');
    answer = { status: 409, body: 'cache name is taken' };
    const error = await expectFailure(create(fakeContext({ configPath }), { cache: 'taken', isPrivate: false }));
    expect(error.message).toBe('the server refused to create cache taken (HTTP 409): cache name is taken');
    expect(await readFile(configPath, 'utf8')).toBe(before);
  });

  it('validates the name before anything else, and needs a token', async () => {
    await writeConfig('');
    expect((await expectFailure(create(fakeContext({ configPath }), { cache: '-x', isPrivate: false }))).message).toContain('invalid cache name');
    expect((await expectFailure(create(fakeContext({ configPath }), { cache: 'ok', isPrivate: false }))).message).toContain('auth token is required');
    expect(server.requests).toHaveLength(0);
  });
});
