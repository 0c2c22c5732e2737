import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderConfig } from '../../../src/config/dhall.js';
import { findSigningKey, loadSettings, requireAuthToken } from '../../../src/config/settings.js';
import type { CachixConfig } from '../../../src/config/types.js';
import { CachixError } from '../../../src/errors.js';
import { fakeContext, tempDir } from '../../integration/config/fake-context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

async function settingsWith(config: Partial<CachixConfig> | undefined, env: NodeJS.ProcessEnv = {}, hostOverride?: string) {
  const configPath = join(dir, 'cachix.dhall');
  if (config) await writeFile(configPath, renderConfig({ authToken: '', hostname: 'https://cachix.org', binaryCaches: [], ...config }));
  return loadSettings(fakeContext({ configPath, env, hostOverride }));
}

describe('loadSettings: auth token precedence (spec §1.3)', () => {
  it('uses the config token when the env var is unset', async () => {
    const s = await settingsWith({ authToken: 'from-config' });
    expect([s.authToken, s.authTokenSource]).toEqual(['from-config', 'config']);
  });

  it('prefers CACHIX_AUTH_TOKEN over the config', async () => {
    const s = await settingsWith({ authToken: 'from-config' }, { CACHIX_AUTH_TOKEN: 'from-env' });
    expect([s.authToken, s.authTokenSource]).toEqual(['from-env', 'env']);
  });

  it('a set-but-empty CACHIX_AUTH_TOKEN still wins over the config', async () => {
    const s = await settingsWith({ authToken: 'from-config' }, { CACHIX_AUTH_TOKEN: '' });
    expect([s.authToken, s.authTokenSource]).toEqual(['', 'env']);
  });

  it('an empty config token means no token, and requireAuthToken says so in one line', async () => {
    const s = await settingsWith({ authToken: '' });
    expect(s.authToken).toBeUndefined();
    expect(() => requireAuthToken(s)).toThrow(CachixError);
    expect(() => requireAuthToken(s)).toThrow(/auth token is required/);
  });

  it('a missing config file gives the defaults', async () => {
    const s = await settingsWith(undefined);
    expect(s.config).toEqual({ authToken: '', hostname: 'https://cachix.org', binaryCaches: [] });
    expect(s.authToken).toBeUndefined();
    expect(s.hostname).toBe('https://cachix.org');
  });
});

describe('loadSettings: host precedence (spec §1.1)', () => {
  it('uses the config hostname, without a trailing slash', async () => {
    expect((await settingsWith({ hostname: 'http://127.0.0.1:9/' })).hostname).toBe('http://127.0.0.1:9');
  });

  it('--host wins over the config hostname', async () => {
    expect((await settingsWith({ hostname: 'http://127.0.0.1:9' }, {}, 'http://127.0.0.1:10')).hostname).toBe('http://127.0.0.1:10');
  });

  it('rejects a non-http hostname in the config, naming the file', async () => {
    await expect(settingsWith({ hostname: 'ftp://x' })).rejects.toThrow(/cachix\.dhall.*only http and https/);
  });
});

describe('findSigningKey (spec §4)', () => {
  const caches = [
    { name: 'a', secretKey: 'first-a' },
    { name: 'b', secretKey: 'only-b' },
    { name: 'a', secretKey: 'last-a' },
  ];

  it('takes the last config entry with the cache name', async () => {
    const s = await settingsWith({ binaryCaches: caches });
    expect(findSigningKey(s, {}, 'a')?.text).toBe('last-a');
    expect(findSigningKey(s, {}, 'a')?.source).toContain('binaryCaches entry "a"');
    expect(findSigningKey(s, {}, 'b')?.text).toBe('only-b');
    expect(findSigningKey(s, {}, 'c')).toBeUndefined();
  });

  it('CACHIX_SIGNING_KEY wins over the config, for any cache', async () => {
    const s = await settingsWith({ binaryCaches: caches });
    expect(findSigningKey(s, { CACHIX_SIGNING_KEY: 'env-key' }, 'a')).toEqual({ text: 'env-key', source: 'CACHIX_SIGNING_KEY' });
    expect(findSigningKey(s, { CACHIX_SIGNING_KEY: 'env-key' }, 'c')?.text).toBe('env-key');
  });

  it('an empty or blank CACHIX_SIGNING_KEY falls back to the config', async () => {
    const s = await settingsWith({ binaryCaches: caches });
    expect(findSigningKey(s, { CACHIX_SIGNING_KEY: '' }, 'a')?.text).toBe('last-a');
    expect(findSigningKey(s, { CACHIX_SIGNING_KEY: '  ' }, 'a')?.text).toBe('last-a');
  });
});
