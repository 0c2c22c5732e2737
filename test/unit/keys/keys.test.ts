import { describe, expect, it } from 'vitest';
import { CachixError } from '../../../src/errors.js';
import {
  formatPublicKeyNix,
  formatSecretKeyBare,
  formatSecretKeyNix,
  generateSecretKey,
  parsePublicKeyNix,
  parseSecretKey,
  secretKeyBytes,
  signBytes,
  verifyBytes,
} from '../../../src/nix/keys.js';

function errorOf(fn: () => unknown): CachixError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CachixError);
    return error as CachixError;
  }
  throw new Error('expected a CachixError');
}

describe('secret keys', () => {
  it('generates libsodium-layout secrets: seed then public key', () => {
    const key = generateSecretKey();
    const raw = secretKeyBytes(key);
    expect(raw.length).toBe(64);
    expect(raw.subarray(32).equals(key.publicKey)).toBe(true);
    expect(generateSecretKey().seed.equals(key.seed)).toBe(false);
  });

  it('parses its own bare and Nix forms back to the same key', () => {
    const key = generateSecretKey();
    const bare = parseSecretKey(formatSecretKeyBare(key), 'test');
    expect(bare.name).toBeUndefined();
    expect(bare.seed.equals(key.seed)).toBe(true);
    const nix = parseSecretKey(`  ${formatSecretKeyNix(key, 'c.cachix.org-1')}\n`, 'test');
    expect(nix.name).toBe('c.cachix.org-1');
    expect(nix.publicKey.equals(key.publicKey)).toBe(true);
  });

  it('signs so that the public key verifies, and only that message', () => {
    const key = generateSecretKey();
    const signature = signBytes(key, '1;/nix/store/x;sha256:y;1;');
    expect(signature.length).toBe(64);
    expect(verifyBytes(key.publicKey, '1;/nix/store/x;sha256:y;1;', signature)).toBe(true);
    expect(verifyBytes(key.publicKey, '1;/nix/store/x;sha256:y;2;', signature)).toBe(false);
    expect(verifyBytes(generateSecretKey().publicKey, '1;/nix/store/x;sha256:y;1;', signature)).toBe(false);
  });

  it.each([
    ['', 'is empty'],
    ['   \n', 'is empty'],
    ['not base64!', 'is not valid base64'],
    [Buffer.alloc(32, 1).toString('base64'), 'has 32 bytes, expected 64'],
    [`name:${Buffer.alloc(65, 1).toString('base64')}`, 'has 65 bytes, expected 64'],
  ])('rejects %j with a message naming the source', (text, fragment) => {
    const error = errorOf(() => parseSecretKey(text, 'CACHIX_SIGNING_KEY'));
    expect(error.message).toContain('the signing key from CACHIX_SIGNING_KEY');
    expect(error.message).toContain(fragment);
    expect(error.message).not.toContain('\n');
  });

  it('rejects a secret whose public half does not belong to its seed, naming the config entry', () => {
    const a = generateSecretKey();
    const b = generateSecretKey();
    const forged = Buffer.concat([a.seed, b.publicKey]).toString('base64');
    const error = errorOf(() => parseSecretKey(forged, '/x/cachix.dhall (binaryCaches entry "c")'));
    expect(error.message).toBe('the signing key from /x/cachix.dhall (binaryCaches entry "c") is inconsistent: its public half does not match its seed');
  });

  it('never puts the secret into an error message', () => {
    const secret = Buffer.alloc(48, 9).toString('base64');
    expect(errorOf(() => parseSecretKey(secret, 'env')).message).not.toContain(secret);
  });
});

describe('public keys', () => {
  it('round-trips the Nix name:base64 form', () => {
    const key = generateSecretKey();
    const parsed = parsePublicKeyNix(formatPublicKeyNix(key.publicKey, 'c.cachix.org-1'));
    expect(parsed.name).toBe('c.cachix.org-1');
    expect(parsed.key.equals(key.publicKey)).toBe(true);
  });

  it.each(['nocolon', ':' + Buffer.alloc(32).toString('base64'), 'n:' + Buffer.alloc(31).toString('base64')])('rejects %j', (text) => {
    errorOf(() => parsePublicKeyNix(text));
  });
});
