import { describe, expect, it } from 'vitest';
import { CachixError } from '../../../src/errors.js';
import { netrcMachineFor, netrcMachines, upsertNetrcEntry } from '../../../src/use/netrc.js';

describe('upsertNetrcEntry', () => {
  it('creates a file with one entry (with a login, which Nix needs when entries follow)', () => {
    expect(upsertNetrcEntry('', 'foo.cachix.org', 'tok1')).toBe('machine foo.cachix.org login cachix password tok1\n');
  });

  it('puts a second cache first, separated by a blank line', () => {
    const one = upsertNetrcEntry('', 'foo.cachix.org', 'tok1');
    expect(upsertNetrcEntry(one, 'bar.cachix.org', 'tok2')).toBe(
      'machine bar.cachix.org login cachix password tok2\n\nmachine foo.cachix.org login cachix password tok1\n',
    );
  });

  it('replaces the token of an existing machine and moves it first', () => {
    const text = 'machine bar.cachix.org login cachix password tok2\n\nmachine foo.cachix.org password old\n';
    expect(upsertNetrcEntry(text, 'foo.cachix.org', 'new')).toBe(
      'machine foo.cachix.org login cachix password new\n\nmachine bar.cachix.org login cachix password tok2\n',
    );
  });

  it('is idempotent', () => {
    const text = 'machine a login x password y\n\nmachine b password z\n';
    const once = upsertNetrcEntry(text, 'foo.cachix.org', 't');
    expect(upsertNetrcEntry(once, 'foo.cachix.org', 't')).toBe(once);
  });

  it('de-duplicates repeated entries of the machine', () => {
    const text = 'machine foo.cachix.org password a\nmachine other login o password p\nmachine foo.cachix.org password b\n';
    expect(upsertNetrcEntry(text, 'foo.cachix.org', 'c')).toBe(
      'machine foo.cachix.org login cachix password c\n\nmachine other login o password p\n',
    );
  });

  it('keeps unrelated entries, default, macdef bodies and leading comments byte for byte', () => {
    const text = [
      '# my netrc',
      'machine  git.example.com\n\tlogin me\n\tpassword "a b"',
      'macdef init\ncd /pub\nmachine fake inside macro\n',
      'machine foo.cachix.org password old',
      'default login anonymous password x@y',
    ].join('\n');
    const out = upsertNetrcEntry(text, 'foo.cachix.org', 'new');
    expect(out).toBe(
      '# my netrc\nmachine foo.cachix.org login cachix password new\n\n' +
        'machine  git.example.com\n\tlogin me\n\tpassword "a b"\nmacdef init\ncd /pub\nmachine fake inside macro\n\n' +
        'default login anonymous password x@y',
    );
    expect(netrcMachines(out)).toEqual(['foo.cachix.org', 'git.example.com']);
  });

  it('splits entries that share a line', () => {
    expect(upsertNetrcEntry('machine a password 1 machine b password 2\n', 'a', '3')).toBe(
      'machine a login cachix password 3\n\nmachine b password 2\n',
    );
  });

  it('rejects a file it cannot parse, and tokens it cannot write', () => {
    expect(() => upsertNetrcEntry('machine', 'a', 't', '/x/netrc')).toThrow(CachixError);
    expect(() => upsertNetrcEntry('machine a password', 'a', 't', '/x/netrc')).toThrow(/cannot parse \/x\/netrc/);
    expect(() => upsertNetrcEntry('machine a password "open', 'a', 't')).toThrow(/unterminated/);
    expect(() => upsertNetrcEntry('', 'a', 'has space')).toThrow(CachixError);
    expect(() => upsertNetrcEntry('', 'a', '')).toThrow(CachixError);
  });
});

describe('netrcMachineFor', () => {
  it.each([
    ['https://foo.cachix.org', 'foo.cachix.org'],
    ['https://foo.cachix.org/', 'foo.cachix.org'],
    ['http://127.0.0.2:8080/some/path', '127.0.0.2'],
    ['https://Foo.Cachix.org:443/', 'foo.cachix.org'],
    ['foo.cachix.org/', 'foo.cachix.org'],
    ['http://[::1]:81', '::1'],
  ])('%s -> %s', (uri, machine) => {
    expect(netrcMachineFor(uri)).toBe(machine);
  });
});
