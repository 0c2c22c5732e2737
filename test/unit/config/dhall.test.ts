import { describe, expect, it } from 'vitest';
import { parseConfigText, renderConfig, renderText } from '../../../src/config/dhall.js';
import { CachixError } from '../../../src/errors.js';
import type { CachixConfig } from '../../../src/config/types.js';

const PATH = '/x/cachix.dhall';
const parse = (text: string) => parseConfigText(text, PATH);

function parseError(text: string): string {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(CachixError);
    return (error as Error).message;
  }
  throw new Error(`expected a parse error for: ${text}`);
}

const SECRET = Buffer.alloc(64, 7).toString('base64');

describe('parseConfigText: files the real client writes (spec §2.2)', () => {
  it('reads the no-cache sample', () => {
    const text = `{ authToken = "eyJhbGciOi…"
, hostname = "https://cachix.org"
, binaryCaches = [] : List { name : Text, secretKey : Text }
}
`;
    expect(parse(text)).toEqual({ authToken: 'eyJhbGciOi…', hostname: 'https://cachix.org', binaryCaches: [] });
  });

  it('reads the one-key sample', () => {
    const text = `{ authToken = "tok"
, hostname = "https://cachix.org"
, binaryCaches = [ { name = "mycache", secretKey = "${SECRET}" } ]
}`;
    expect(parse(text).binaryCaches).toEqual([{ name: 'mycache', secretKey: SECRET }]);
  });

  it('reads a dhall-format layout with a wrapped list and 4-space indentation', () => {
    const text = `{ authToken = "tok"
, hostname = "http://127.0.0.1:8080"
, binaryCaches =
    [ { name = "a", secretKey = "k1" }
    , { name = "b"
      , secretKey = "k2"
      }
    ]
}`;
    expect(parse(text)).toEqual({
      authToken: 'tok',
      hostname: 'http://127.0.0.1:8080',
      binaryCaches: [
        { name: 'a', secretKey: 'k1' },
        { name: 'b', secretKey: 'k2' },
      ],
    });
  });
});

describe('parseConfigText: the accepted subset', () => {
  it('defaults missing fields, in any order and any subset', () => {
    expect(parse('{ authToken = "t" }')).toEqual({ authToken: 't', hostname: 'https://cachix.org', binaryCaches: [] });
    expect(parse('{ hostname = "http://h", authToken = "t" }')).toEqual({ authToken: 't', hostname: 'http://h', binaryCaches: [] });
    expect(parse('{=}')).toEqual({ authToken: '', hostname: 'https://cachix.org', binaryCaches: [] });
  });

  it('skips line comments and nested block comments anywhere whitespace may go', () => {
    const text = `-- written by hand
{- a block {- nested -} comment -}
{ authToken {- here -} = -- and here
    "t" -- trailing
, binaryCaches = [ {- empty -} ] : List {- x -} { name : Text, secretKey : Text }
} -- end`;
    expect(parse(text)).toEqual({ authToken: 't', hostname: 'https://cachix.org', binaryCaches: [] });
  });

  it('accepts a leading separator, CRLF line ends, tabs, parentheses and backtick labels', () => {
    const text = '{ , `authToken` = ("t")\r\n\t, binaryCaches = [ , { secretKey = "s", name = "n" } ]\r\n}';
    expect(parse(text)).toEqual({ authToken: 't', hostname: 'https://cachix.org', binaryCaches: [{ name: 'n', secretKey: 's' }] });
  });

  it('decodes every Dhall escape', () => {
    const text = String.raw`{ authToken = "q\" b\\ s\/ d\$ \b\f\n\r\t \u0041 \u{1F600} \u{0000041} é😀" }`;
    expect(parse(text).authToken).toBe('q" b\\ s/ d$ \b\f\n\r\t A 😀 A é😀');
  });

  it('accepts matching annotations on the list, entries, text and the whole record', () => {
    const text = `{ authToken = "t" : Text
, binaryCaches = [ { name = "n", secretKey = "s" } : { secretKey : Text, name : Text } ] : List { name : Text, secretKey : Text }
} : { authToken : Text, binaryCaches : List { name : Text, secretKey : Text } }`;
    expect(parse(text).binaryCaches).toEqual([{ name: 'n', secretKey: 's' }]);
  });

  it('keeps duplicate cache entries in order (the last one wins for signing)', () => {
    const text = '{ binaryCaches = [ { name = "c", secretKey = "one" }, { name = "c", secretKey = "two" } ] }';
    expect(parse(text).binaryCaches.map((c) => c.secretKey)).toEqual(['one', 'two']);
  });
});

describe('parseConfigText: one positioned line for bad files', () => {
  it('names the file and line:column of a missing "="', () => {
    const text = '{ authToken = "t"\n, hostname = "h"\n, binaryCaches : List { name : Text, secretKey : Text }\n}';
    expect(parseError(text)).toBe(
      'cannot parse config file /x/cachix.dhall at 3:16: expected "=" after field name "binaryCaches" (":" makes a record type, not a value)',
    );
  });

  it.each([
    ['{ authToken = "t", foo = "b" }', '1:20', 'unknown field "foo"'],
    ['{ authToken = "t", authToken = "u" }', '1:20', 'duplicate field "authToken"'],
    ['{ authToken = "abc\n}', '1:15', 'unterminated text literal'],
    ['{ authToken = "abc', '1:15', 'unterminated text literal'],
    ['{ authToken = "a\\qb" }', '1:17', 'unknown escape "\\q"'],
    ['{ authToken = "a\\u12" }', '1:17', 'invalid escape'],
    ['{ authToken = "a\\uD83D\\uDE00" }', '1:17', 'surrogate'],
    ['{ authToken = "a${x}" }', '1:17', 'interpolation'],
    ['{ authToken = "a\tb" }', '1:17', 'control character U+0009'],
    ['{ binaryCaches = [] }', '1:18', 'an empty list needs its type'],
    ['{ binaryCaches = [] : List { name : Text } }', '1:21', 'must be List { name : Text, secretKey : Text }'],
    ['{ binaryCaches = [ { name = "n" } ] }', '1:20', 'missing its "secretKey" field'],
    ['{ binaryCaches = [ { name = "n", secretKey = "s", extra = "e" } ] }', '1:51', 'unknown field "extra"'],
    ['{ authToken = [ "t" ] }', '1:15', 'authToken must be a "text" value'],
    ['{ binaryCaches = "x" }', '1:18', 'binaryCaches must be a list'],
    ['{ authToken = "t" } // { hostname = "h" }', '1:21', 'merge operator'],
    ['{ authToken = "t" } junk', '1:21', 'after the end of the config record'],
    ['{ authToken = "t"  hostname = "h" }', '1:20', 'expected "," or "}"'],
    ['{- never closed', '1:1', 'unterminated {- comment'],
    ['', '1:1', 'the file is empty'],
    ['-- only a comment\n', '2:1', 'the file is empty'],
    ['"just text"', '1:1', 'the config must be a record'],
    ["{ authToken = ''\n  t\n  '' }", '1:15', "multi-line ''…'' text"],
    ['{ authToken = "t" : List Text }', '1:19', 'type annotation of authToken'],
  ])('%j → at %s: %s', (text, position, fragment) => {
    const message = parseError(text);
    expect(message.slice(0, `cannot parse config file ${PATH} at ${position}: `.length)).toBe(`cannot parse config file ${PATH} at ${position}: `);
    expect(message).toContain(fragment);
    expect(message).not.toContain('\n');
  });
});

describe('renderConfig', () => {
  it('writes the real client layout with an empty list', () => {
    expect(renderConfig({ authToken: 'tok', hostname: 'https://cachix.org', binaryCaches: [] })).toBe(
      '{ authToken = "tok"\n, hostname = "https://cachix.org"\n, binaryCaches = [] : List { name : Text, secretKey : Text }\n}\n',
    );
  });

  it('writes one entry per line with leading commas', () => {
    const config: CachixConfig = {
      authToken: '',
      hostname: 'https://cachix.org',
      binaryCaches: [
        { name: 'a', secretKey: SECRET },
        { name: 'b', secretKey: 'k' },
      ],
    };
    expect(renderConfig(config)).toBe(
      `{ authToken = ""\n, hostname = "https://cachix.org"\n, binaryCaches =\n  [ { name = "a", secretKey = "${SECRET}" }\n  , { name = "b", secretKey = "k" }\n  ]\n}\n`,
    );
  });

  it('escapes so that nothing can close the literal or start an interpolation', () => {
    expect(renderText('a"b\\c${d}')).toBe('"a\\"b\\\\c\\${d}"');
    expect(renderText('\n\t\r\b\f\u0001\u007f')).toBe('"\\n\\t\\r\\b\\f\\u0001\u007f"');
    expect(() => renderText('\ud800')).toThrow(CachixError);
  });
});

describe('render → parse round trip', () => {
  const nasty = [
    '',
    'plain',
    '"quoted"',
    'back\\slash\\',
    '${interp}',
    '$',
    '\\${',
    '--not a comment',
    '{- not a comment -}',
    'all controls: ' + Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join(''),
    'unicode é ñ 中文 😀 \u{10FFFF} \uFFFE \uFDD0 \u2028',
    '\\u0041 stays literal',
  ];

  it.each(nasty)('%j survives as every field', (value) => {
    const config: CachixConfig = {
      authToken: value,
      hostname: value,
      binaryCaches: [
        { name: value, secretKey: value },
        { name: 'x', secretKey: value + value },
      ],
    };
    expect(parse(renderConfig(config))).toEqual(config);
  });

  it('round-trips random strings', () => {
    // Deterministic pseudo-random text over a range that includes ASCII punctuation,
    // controls and astral characters.
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let n = 0; n < 300; n++) {
      let s = '';
      const length = next() % 40;
      for (let i = 0; i < length; i++) {
        const pick = next() % 4;
        const cp = pick === 0 ? next() % 0x80 : pick === 1 ? 0x20 + (next() % 0x60) : pick === 2 ? 0xa0 + (next() % 0xd000) : 0x10000 + (next() % 0x10000);
        s += String.fromCodePoint(cp);
      }
      const config: CachixConfig = { authToken: s, hostname: 'https://cachix.org', binaryCaches: [{ name: s, secretKey: s }] };
      expect(parse(renderConfig(config))).toEqual(config);
    }
  });
});
