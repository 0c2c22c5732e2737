import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { CachixError } from '../errors.js';

/**
 * ed25519 keys in libsodium's layout, as Nix and cachix use them: the 64-byte secret is
 * the 32-byte seed followed by the 32-byte public key. node:crypto signs byte-identically
 * to tweetnacl/libsodium, so no dependency is needed.
 */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface SecretKey {
  /** Nix key name (e.g. `mycache.cachix.org-1`), when the key came in Nix's `name:base64` form. */
  name: string | undefined;
  /** 32-byte seed. */
  seed: Buffer;
  /** 32-byte public key. */
  publicKey: Buffer;
  /** node:crypto handle used for signing. */
  keyObject: KeyObject;
}

export function secretKeyFromSeed(seed: Uint8Array, name?: string): SecretKey {
  const keyObject = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(keyObject).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
  return { name, seed: Buffer.from(seed), publicKey: Buffer.from(publicKey), keyObject };
}

export function generateSecretKey(name?: string): SecretKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return secretKeyFromSeed(Buffer.from(jwk.d!, 'base64url'), name);
}

/** The 64-byte libsodium secret (seed ‖ public key). */
export function secretKeyBytes(key: SecretKey): Buffer {
  return Buffer.concat([key.seed, key.publicKey]);
}

/** Cachix's storage form: bare standard base64 of the 64-byte secret. */
export function formatSecretKeyBare(key: SecretKey): string {
  return secretKeyBytes(key).toString('base64');
}

/** Nix's `name:base64` secret key form (what `nix-store --generate-binary-cache-key` writes). */
export function formatSecretKeyNix(key: SecretKey, name: string): string {
  return `${name}:${secretKeyBytes(key).toString('base64')}`;
}

export function formatPublicKeyNix(publicKey: Uint8Array, name: string): string {
  return `${name}:${Buffer.from(publicKey).toString('base64')}`;
}

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses a secret key given as bare base64 (cachix's form) or as Nix's `name:base64`
 * (split on the last `:`). `source` names where the text came from, for the error.
 */
export function parseSecretKey(text: string, source: string): SecretKey {
  const trimmed = text.trim();
  if (trimmed === '') throw new CachixError(`the signing key from ${source} is empty`);
  const colon = trimmed.lastIndexOf(':');
  const name = colon >= 0 ? trimmed.slice(0, colon) : undefined;
  const body = colon >= 0 ? trimmed.slice(colon + 1) : trimmed;
  if (!BASE64_RE.test(body)) {
    throw new CachixError(`the signing key from ${source} is not valid base64`, {
      hint: 'expected the base64 secret key printed by `cachix generate-keypair`, or a Nix key `name:base64`',
    });
  }
  const raw = Buffer.from(body, 'base64');
  if (raw.length !== 64) {
    throw new CachixError(`the signing key from ${source} has ${raw.length} bytes, expected 64 (an ed25519 secret key)`);
  }
  const key = secretKeyFromSeed(raw.subarray(0, 32), name === '' ? undefined : name);
  if (!key.publicKey.equals(raw.subarray(32))) {
    throw new CachixError(`the signing key from ${source} is inconsistent: its public half does not match its seed`);
  }
  return key;
}

export interface PublicKey {
  name: string;
  key: Buffer;
}

export function parsePublicKeyNix(text: string): PublicKey {
  const colon = text.lastIndexOf(':');
  const raw = Buffer.from(text.slice(colon + 1), 'base64');
  if (colon <= 0 || raw.length !== 32) throw new CachixError(`not a Nix public key (name:base64 of 32 bytes): ${text}`);
  return { name: text.slice(0, colon), key: raw };
}

/** Raw 64-byte ed25519 signature of `message`. */
export function signBytes(key: SecretKey, message: string): Buffer {
  return sign(null, Buffer.from(message, 'utf8'), key.keyObject);
}

/** A raw 32-byte ed25519 public key as a KeyObject: build it once when verifying many signatures. */
export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

export function verifyBytes(publicKey: Uint8Array | KeyObject, message: string, signature: Uint8Array): boolean {
  const keyObject = publicKey instanceof Uint8Array ? publicKeyObject(publicKey) : publicKey;
  try {
    return verify(null, Buffer.from(message, 'utf8'), keyObject, signature);
  } catch {
    return false;
  }
}
