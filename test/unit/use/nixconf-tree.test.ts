import { describe, expect, it } from 'vitest';
import { CachixError } from '../../../src/errors.js';
import { parseNixConfLine, renderSetting } from '../../../src/use/nixconf-line.js';
import { effectiveList, lastSetting, readConfTree, type ReadText } from '../../../src/use/nixconf-tree.js';

const reader = (files: Record<string, string>): ReadText => async (path) => files[path];

describe('parseNixConfLine', () => {
  it.each([
    ['substituters = a b', { key: 'substituters', values: ['a', 'b'], comment: '' }],
    ['substituters = a#b c', { key: 'substituters', values: ['a'], comment: '#b c' }],
    ['  substituters\t=\ta  # note', { key: 'substituters', values: ['a'], indent: '  ', comment: '  # note' }],
    ['substituters =', { key: 'substituters', values: [] }],
    ['x = 1\r', { key: 'x', values: ['1'], eol: '\r' }],
  ])('reads %j as a setting', (line, expected) => {
    expect(parseNixConfLine(line)).toMatchObject({ kind: 'setting', ...expected });
  });

  it.each(['', '   ', '# substituters = a'])('keeps %j as an uninterpreted line', (line) => {
    expect(parseNixConfLine(line)).toEqual({ kind: 'other' });
  });

  // Each of these makes Nix 2.8 fail with "illegal configuration line".
  it.each(['substituters=a', 'just words here', 'include', 'include a b'])('marks %j as invalid, as Nix does', (line) => {
    expect(parseNixConfLine(line)).toEqual({ kind: 'invalid' });
  });

  it('reads include and !include', () => {
    expect(parseNixConfLine('include ./a.conf # c')).toEqual({ kind: 'include', optional: false, path: './a.conf' });
    expect(parseNixConfLine('!include /b.conf')).toEqual({ kind: 'include', optional: true, path: '/b.conf' });
  });

  it('renders with the original indent, comment and line end', () => {
    const like = parseNixConfLine('\tk = a #c\r');
    if (like.kind !== 'setting') throw new Error('not a setting');
    expect(renderSetting('k', ['x', 'y'], like)).toBe('\tk = x y #c\r');
    expect(renderSetting('k', [], { indent: '', comment: '#c', eol: '' })).toBe('k = #c');
  });
});

describe('readConfTree', () => {
  it('follows relative includes in order, anchored at the include line', async () => {
    const files = {
      '/etc/nix/nix.conf': 'a = 1\ninclude sub/more.conf\nb = 2\n',
      '/etc/nix/sub/more.conf': 'c = 3\n!include ../last.conf\n',
      '/etc/nix/last.conf': 'd = 4\n',
    };
    const tree = await readConfTree('/etc/nix/nix.conf', reader(files));
    expect(tree.map((s) => [s.key, s.file, s.anchor, s.inRoot])).toEqual([
      ['a', '/etc/nix/nix.conf', 0, true],
      ['c', '/etc/nix/sub/more.conf', 1, false],
      ['d', '/etc/nix/last.conf', 1, false],
      ['b', '/etc/nix/nix.conf', 2, true],
    ]);
  });

  it('returns nothing for a missing root file', async () => {
    expect(await readConfTree('/nope.conf', reader({}))).toEqual([]);
  });

  it('skips a missing !include', async () => {
    const tree = await readConfTree('/n.conf', reader({ '/n.conf': '!include gone.conf\nx = 1\n' }));
    expect(tree.map((s) => s.key)).toEqual(['x']);
  });

  it('fails clearly on a missing include', async () => {
    const error = await readConfTree('/n.conf', reader({ '/n.conf': 'include gone.conf\n' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CachixError);
    expect((error as CachixError).message).toBe('file /gone.conf included from /n.conf not found');
  });

  it('fails clearly on an include cycle', async () => {
    const files = { '/c/a.conf': 'include b.conf\n', '/c/b.conf': 'include ./a.conf\n' };
    const error = await readConfTree('/c/a.conf', reader(files)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CachixError);
    expect((error as CachixError).message).toBe('nix.conf include cycle: /c/a.conf -> /c/b.conf -> /c/a.conf');
  });

  it('allows the same file included twice without a cycle', async () => {
    const files = { '/c/a.conf': 'include b.conf\ninclude b.conf\n', '/c/b.conf': 'x = 1\n' };
    expect((await readConfTree('/c/a.conf', reader(files))).length).toBe(2);
  });
});

describe('effectiveList and lastSetting', () => {
  it('computes trusted-users as Nix does: set replaces, extra- appends, default root', async () => {
    const read = reader({ '/n.conf': 'extra-trusted-users = x\ntrusted-users = root alice\nextra-trusted-users = @wheel\n' });
    const tree = await readConfTree('/n.conf', read);
    expect(effectiveList(tree, 'trusted-users', ['root'])).toEqual(['root', 'alice', '@wheel']);
    expect(effectiveList([], 'trusted-users', ['root'])).toEqual(['root']);
  });

  it('finds the last netrc-file', async () => {
    const tree = await readConfTree('/n.conf', reader({ '/n.conf': 'netrc-file = /a\nnetrc-file = /b\n' }));
    expect(lastSetting(tree, 'netrc-file')?.values).toEqual(['/b']);
    expect(lastSetting(tree, 'other')).toBeUndefined();
  });
});
