import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromNixBase32, parseSha256, sha256Nix, toNixBase32 } from '../../../src/nix/base32.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

describe('Nix base-32', () => {
  // Vectors printed by `nix-hash --type sha256|sha1 --to-base32` (Nix 2.8).
  it.each([
    ['sha256 of "hello"', sha256('hello'), '094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic'],
    ['sha256 of ""', sha256(''), '0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73'],
    ['sha1 of "abc"', createHash('sha1').update('abc').digest(), 'kpcd173cq987hw957sx6m0868wv3x6d9'],
  ])('encodes %s like Nix', (_name, digest, expected) => {
    expect(toNixBase32(digest)).toBe(expected);
    expect(Buffer.from(fromNixBase32(expected, digest.length))).toEqual(digest);
  });

  it('round-trips random digests of several lengths', () => {
    for (const len of [1, 5, 16, 20, 32, 64]) {
      const bytes = randomBytes(len);
      expect(Buffer.from(fromNixBase32(toNixBase32(bytes), len))).toEqual(bytes);
    }
  });

  it('rejects characters outside the alphabet and bad lengths', () => {
    expect(() => fromNixBase32('e'.repeat(52), 32)).toThrow(/character 'e'/);
    expect(() => fromNixBase32('0'.repeat(51), 32)).toThrow(/length/);
  });

  it('rejects non-zero leftover bits', () => {
    // 52 chars carry 260 bits for 256: a top symbol above 0..15 sets bits beyond the digest.
    expect(() => fromNixBase32('z' + '0'.repeat(51), 32)).toThrow(/leftover/);
  });

  it('parses sha256 in base32, base16, base64 and SRI form to the same digest', () => {
    const digest = sha256('hello');
    const forms = [
      sha256Nix(digest),
      `sha256:${digest.toString('hex')}`,
      `sha256:${digest.toString('base64')}`,
      `sha256-${digest.toString('base64')}`,
    ];
    for (const form of forms) expect(Buffer.from(parseSha256(form))).toEqual(digest);
    expect(() => parseSha256('md5:abc')).toThrow();
  });
});
