import { describe, expect, it } from 'vitest';
import { CachixError } from '../../../src/errors.js';
import { configEntryName, localKeyName, parseCacheTarget, validateCacheName } from '../../../src/nix/cache-name.js';

describe('validateCacheName', () => {
  it.each(['a', 'my-cache', '0day', 'x'.repeat(63), 'nix-community'])('accepts %j', (name) => {
    expect(validateCacheName(name)).toBe(name);
  });

  it.each([
    ['', 'empty'],
    ['My-Cache', 'lowercase'],
    ['-lead', 'starting with a letter or digit'],
    ['a_b', 'lowercase letters, digits and dashes'],
    ['a.b', 'lowercase letters, digits and dashes'],
    ['a b', 'lowercase letters, digits and dashes'],
    ['x'.repeat(64), 'at most 63'],
  ])('rejects %j', (name, fragment) => {
    expect(() => validateCacheName(name)).toThrow(CachixError);
    expect(() => validateCacheName(name)).toThrow(fragment);
  });
});

describe('parseCacheTarget', () => {
  it('takes a plain name as a Cachix cache', () => {
    expect(parseCacheTarget('mycache')).toEqual({ kind: 'cachix', name: 'mycache' });
  });

  it.each([
    ['file:///srv/cache', '/srv/cache'],
    ['file:///srv/cache/', '/srv/cache'],
    ['file://localhost/srv/cache', '/srv/cache'],
    ['file:///srv/x/../cache', '/srv/cache'],
    ['/srv/cache', '/srv/cache'],
    ['/srv//cache/', '/srv/cache'],
    ['./cache', '/work/cache'],
    ['../srv/cache', '/srv/cache'],
  ])('normalises %j to file://%s', (arg, dir) => {
    expect(parseCacheTarget(arg, '/work')).toEqual({ kind: 'local', url: `file://${dir}`, dir });
  });

  it('percent-encodes what a URL cannot hold raw, and decodes it back', () => {
    const target = parseCacheTarget('/srv/my cache');
    expect(target).toEqual({ kind: 'local', url: 'file:///srv/my%20cache', dir: '/srv/my cache' });
    expect(parseCacheTarget('file:///srv/my%20cache')).toEqual(target);
  });

  it.each([
    ['file:///srv/cache?compression=zstd', 'options after "?"'],
    ['file://otherhost/srv', 'no host'],
    ['file:///', 'root directory'],
    ['/', 'root directory'],
    ['s3://bucket', 's3:// is not supported'],
    ['https://x.cachix.org', 'https:// is not supported'],
    ['Upper', 'invalid cache name'],
  ])('rejects %j', (arg, fragment) => {
    expect(() => parseCacheTarget(arg)).toThrow(CachixError);
    expect(() => parseCacheTarget(arg)).toThrow(fragment);
  });

  it('names config entries by cache name or by normalised URL', () => {
    expect(configEntryName(parseCacheTarget('c'))).toBe('c');
    expect(configEntryName(parseCacheTarget('/srv/cache/'))).toBe('file:///srv/cache');
  });
});

describe('localKeyName', () => {
  it.each([
    ['/srv/cache', 'cache-1'],
    ['/srv/my cache:x', 'my-cache-x-1'],
    ['/srv/:::', 'local-1'],
  ])('%j → %j', (dir, name) => {
    expect(localKeyName(dir)).toBe(name);
  });
});
