import { describe, expect, it } from 'vitest';
import {
  addCacheToNixConf,
  externalSettings,
  NIXOS_CACHE as N,
  NIXOS_CACHE_KEY as NK,
  removeCacheFromNixConf,
} from '../../../src/use/nixconf-edit.js';
import type { ConfSetting } from '../../../src/use/nixconf-tree.js';

const FOO = { uri: 'https://foo.cachix.org', publicKeys: ['foo.cachix.org-1:Zm9vMQ=='] };
const FK = FOO.publicKeys[0]!;
const BAR = { uri: 'https://bar.cachix.org', publicKeys: ['bar.cachix.org-1:YmFyMQ==', 'bar.cachix.org-2:YmFyMg=='] };

/** Adds and checks that a second identical run changes nothing, byte for byte. */
function add(text: string, cache = FOO, options: Parameters<typeof addCacheToNixConf>[2] = {}): string {
  const once = addCacheToNixConf(text, cache, options);
  expect(addCacheToNixConf(once, cache, options)).toBe(once);
  return once;
}

describe('addCacheToNixConf', () => {
  it('creates both lines for a missing (empty) file, cache.nixos.org first', () => {
    expect(add('')).toBe(`substituters = ${N} https://foo.cachix.org\ntrusted-public-keys = ${NK} ${FK}\n`);
  });

  it('keeps comments, blank lines and unrelated keys byte for byte and appends at the end', () => {
    const text = '# my config\n\nsandbox = false\n  \n# trailing comment\nmax-jobs = 4';
    expect(add(text)).toBe(`${text}\nsubstituters = ${N} https://foo.cachix.org\ntrusted-public-keys = ${NK} ${FK}\n`);
  });

  it('edits existing lines in place, keeping their position and the blank line after them', () => {
    const text = `substituters = https://a.example\n\ntrusted-public-keys = a-1:QQ==\n\nkeep-going = true\n`;
    expect(add(text)).toBe(
      `substituters = ${N} https://a.example https://foo.cachix.org\n\ntrusted-public-keys = ${NK} a-1:QQ== ${FK}\n\nkeep-going = true\n`,
    );
  });

  it('does not duplicate cache.nixos.org already present (with or without trailing slash)', () => {
    const text = `substituters = https://a.example https://cache.nixos.org/\ntrusted-public-keys = ${NK}\n`;
    expect(add(text)).toBe(`substituters = ${N} https://a.example https://foo.cachix.org\ntrusted-public-keys = ${NK} ${FK}\n`);
  });

  it('keeps a trailing # comment as a comment, after the values', () => {
    const text = `substituters = https://a.example # mirrors\ntrusted-public-keys = a-1:QQ==#k\n`;
    expect(add(text)).toBe(
      `substituters = ${N} https://a.example https://foo.cachix.org # mirrors\ntrusted-public-keys = ${NK} a-1:QQ== ${FK} #k\n`,
    );
  });

  it('rewrites legacy names in place and merges duplicated lines into the first', () => {
    const text = `binary-caches = https://a.example\nx = 1\nbinary-cache-public-keys = a-1:QQ==\nsubstituters = https://b.example\n`;
    expect(add(text)).toBe(
      `substituters = ${N} https://a.example https://b.example https://foo.cachix.org\nx = 1\ntrusted-public-keys = ${NK} a-1:QQ== ${FK}\n`,
    );
  });

  it('adds nothing that an extra- line after ours already provides', () => {
    const text = `extra-substituters = https://foo.cachix.org\nextra-trusted-public-keys = ${FK}\n`;
    // Each of our lines goes just before its extra- line, which keeps appending to it.
    expect(add(text)).toBe(
      `substituters = ${N}\nextra-substituters = https://foo.cachix.org\ntrusted-public-keys = ${NK}\nextra-trusted-public-keys = ${FK}\n`,
    );
  });

  it('does not revive extra- entries already overridden by a plain line below them', () => {
    const text = `extra-substituters = https://x.example\nsubstituters = https://a.example\n`;
    expect(add(text)).toBe(
      `extra-substituters = https://x.example\nsubstituters = ${N} https://a.example https://foo.cachix.org\ntrusted-public-keys = ${NK} ${FK}\n`,
    );
  });

  it('adds only missing keys of a cache with several keys', () => {
    const text = `trusted-public-keys = ${BAR.publicKeys[1]}\n`;
    expect(add(text, BAR)).toBe(`trusted-public-keys = ${NK} ${BAR.publicKeys[1]} ${BAR.publicKeys[0]}\nsubstituters = ${N} https://bar.cachix.org\n`);
  });

  it('adds a second cache after the first one', () => {
    expect(add(add(''), BAR)).toBe(
      `substituters = ${N} https://foo.cachix.org https://bar.cachix.org\ntrusted-public-keys = ${NK} ${FK} ${BAR.publicKeys.join(' ')}\n`,
    );
  });

  it('treats a substituter with a trailing slash as the same cache', () => {
    const text = `substituters = ${N} https://foo.cachix.org/\ntrusted-public-keys = ${NK} ${FK}\n`;
    expect(add(text)).toBe(text);
  });

  it('keeps CRLF line endings and indentation of the edited line', () => {
    const text = `  substituters = https://a.example\r\nx = 1\r\n`;
    expect(add(text).startsWith(`  substituters = ${N} https://a.example https://foo.cachix.org\r\nx = 1\r\n`)).toBe(true);
  });

  it('leaves an already configured file untouched, even with unusual spacing', () => {
    const text = `substituters   =   ${N}  https://foo.cachix.org\ntrusted-public-keys = ${NK} ${FK}`;
    expect(addCacheToNixConf(text, FOO)).toBe(text);
  });

  it('sets an existing netrc-file line in place and drops duplicates', () => {
    const text = `netrc-file = /old\nx = 1\nnetrc-file = /older # mine\n`;
    expect(addCacheToNixConf(text, FOO, { netrcFile: '/new' })).toBe(
      `x = 1\nnetrc-file = /new # mine\nsubstituters = ${N} https://foo.cachix.org\ntrusted-public-keys = ${NK} ${FK}\n`,
    );
  });

  it('appends netrc-file when asked', () => {
    expect(add('', FOO, { netrcFile: '/home/a/.config/nix/netrc' })).toBe(
      `substituters = ${N} https://foo.cachix.org\ntrusted-public-keys = ${NK} ${FK}\nnetrc-file = /home/a/.config/nix/netrc\n`,
    );
  });

  describe('with settings from other files', () => {
    const setting = (key: string, values: string[], file: string, anchor: number, inRoot: boolean): ConfSetting => ({
      key,
      values,
      file,
      anchor,
      inRoot,
    });

    it('carries the global substituters and extras into the user file (user mode)', () => {
      const global = [
        setting('substituters', ['https://g.example'], '/etc/nix/nix.conf', 0, true),
        setting('extra-substituters', ['https://ge.example'], '/etc/nix/nix.conf', 1, true),
        setting('trusted-public-keys', ['g-1:Rw=='], '/etc/nix/nix.conf', 2, true),
      ];
      const external = externalSettings(global, []);
      expect(add('', FOO, { external })).toBe(
        `substituters = ${N} https://g.example https://ge.example https://foo.cachix.org\ntrusted-public-keys = ${NK} g-1:Rw== ${FK}\n`,
      );
    });

    it('merges substituters from an included file and respects extras included after our line', () => {
      const text = `substituters = https://a.example\ntrusted-public-keys = a-1:QQ==\ninclude extra.conf\n`;
      const targetTree = [
        setting('substituters', ['https://a.example'], '/c/nix.conf', 0, true),
        setting('trusted-public-keys', ['a-1:QQ=='], '/c/nix.conf', 1, true),
        setting('substituters', ['https://inc.example'], '/c/extra.conf', 2, false),
        setting('extra-trusted-public-keys', [FK], '/c/extra.conf', 2, false),
      ];
      expect(add(text, FOO, { external: externalSettings([], targetTree) })).toBe(
        `substituters = ${N} https://a.example https://inc.example https://foo.cachix.org\ntrusted-public-keys = ${NK} a-1:QQ==\ninclude extra.conf\n`,
      );
    });

    it('carries extras of an include that a line appended after it would override', () => {
      const text = `include extra.conf\n`;
      const targetTree = [setting('extra-trusted-public-keys', ['x-1:eA=='], '/c/extra.conf', 0, false)];
      expect(add(text, FOO, { external: externalSettings([], targetTree) })).toBe(
        `include extra.conf\nsubstituters = ${N} https://foo.cachix.org\ntrusted-public-keys = ${NK} x-1:eA== ${FK}\n`,
      );
    });
  });
});

describe('removeCacheFromNixConf', () => {
  const foo = { uri: 'https://foo.cachix.org', keyName: (n: string) => n === 'foo.cachix.org' || n.startsWith('foo.cachix.org-') };

  it('removes the substituter and its keys, keeping everything else', () => {
    const text = `# c\nsubstituters = ${N} https://foo.cachix.org https://b.example # note\n\ntrusted-public-keys = ${NK} ${FK} foo.cachix.org-2:eA== foo.cachix.org.evil-1:eA==\n`;
    expect(removeCacheFromNixConf(text, foo)).toEqual({
      text: `# c\nsubstituters = ${N} https://b.example # note\n\ntrusted-public-keys = ${NK} foo.cachix.org.evil-1:eA==\n`,
      removed: true,
    });
  });

  it('matches a substituter written with a trailing slash', () => {
    expect(removeCacheFromNixConf(`substituters = https://foo.cachix.org/ ${N}\n`, foo)).toEqual({ text: `substituters = ${N}\n`, removed: true });
  });

  it('writes no lines for absent keys and leaves an unrelated file byte for byte', () => {
    const text = `substituters = ${N}\nsandbox = false`;
    expect(removeCacheFromNixConf(text, foo)).toEqual({ text, removed: false });
  });

  it('drops an extra- line that becomes empty but keeps an emptied plain line', () => {
    const text = `extra-substituters = https://foo.cachix.org\nsubstituters = https://foo.cachix.org\nx = 1\n`;
    expect(removeCacheFromNixConf(text, foo)).toEqual({ text: `substituters =\nx = 1\n`, removed: true });
  });

  it('undoes a use', () => {
    const original = `# mine\nsubstituters = ${N} https://a.example\ntrusted-public-keys = ${NK}\n`;
    const used = addCacheToNixConf(original, FOO);
    expect(removeCacheFromNixConf(used, foo).text).toBe(original);
  });
});
