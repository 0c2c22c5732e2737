/** Strict shape checks of request bodies; every failure is a 400 with a message naming the field. */
import type { NarInfoCreate } from '../../../src/api/types.js';
import { parseBaseName } from '../../../src/nix/store-path.js';
import { badRequest, isObject } from './http.js';

const STORE_HASH_RE = /^[0-9abcdfghijklmnpqrsvwxyz]{32}$/;
const NAR_HASH_RE = /^sha256:[0-9abcdfghijklmnpqrsvwxyz]{52}$/;
const HEX_SHA256_RE = /^[0-9a-f]{64}$/;
const NAME_RE = /^[A-Za-z0-9+\-._?=]+$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export function isStoreHash(text: unknown): text is string {
  return typeof text === 'string' && STORE_HASH_RE.test(text);
}

function size(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`narInfoCreate.${field} must be a non-negative integer`);
  }
  return value;
}

function str(value: unknown, field: string): string {
  if (typeof value !== 'string') throw badRequest(`narInfoCreate.${field} must be a string`);
  return value;
}

export function parseNarInfoCreate(value: unknown): NarInfoCreate {
  if (!isObject(value)) throw badRequest('narInfoCreate must be a JSON object');
  const cStoreHash = str(value.cStoreHash, 'cStoreHash');
  if (!STORE_HASH_RE.test(cStoreHash)) throw badRequest('narInfoCreate.cStoreHash must be a 32-character Nix base-32 hash');
  const cStoreSuffix = str(value.cStoreSuffix, 'cStoreSuffix');
  if (!NAME_RE.test(cStoreSuffix)) throw badRequest('narInfoCreate.cStoreSuffix is not a valid store path name');
  const cNarHash = str(value.cNarHash, 'cNarHash');
  if (!NAR_HASH_RE.test(cNarHash)) throw badRequest('narInfoCreate.cNarHash must be sha256:<52 Nix base-32 characters>');
  const cNarSize = size(value.cNarSize, 'cNarSize');
  if (cNarSize === 0) throw badRequest('narInfoCreate.cNarSize must not be 0');
  const cFileHash = str(value.cFileHash, 'cFileHash');
  if (!HEX_SHA256_RE.test(cFileHash)) throw badRequest('narInfoCreate.cFileHash must be 64 lowercase hex characters (no sha256: prefix)');
  const cFileSize = size(value.cFileSize, 'cFileSize');
  if (!Array.isArray(value.cReferences)) throw badRequest('narInfoCreate.cReferences must be an array of store path base names');
  const cReferences = value.cReferences.map((ref, i) => {
    if (typeof ref !== 'string' || ref.includes('/') || !parseBaseName(ref)) {
      throw badRequest(`narInfoCreate.cReferences[${i}] is not a store path base name: ${JSON.stringify(ref)}`);
    }
    return ref;
  });
  const cDeriver = str(value.cDeriver, 'cDeriver');
  if (cDeriver !== 'unknown-deriver' && (!cDeriver.endsWith('.drv') || !parseBaseName(cDeriver))) {
    throw badRequest('narInfoCreate.cDeriver must be a .drv base name or "unknown-deriver"');
  }
  if (!('cSig' in value)) throw badRequest('narInfoCreate.cSig is missing (send null for a server-side signature)');
  const cSig = value.cSig;
  if (cSig !== null) {
    if (typeof cSig !== 'string' || !BASE64_RE.test(cSig) || Buffer.from(cSig, 'base64').length !== 64) {
      throw badRequest('narInfoCreate.cSig must be null or the base64 of a 64-byte ed25519 signature (no key name)');
    }
  }
  return { cStoreHash, cStoreSuffix, cNarHash, cNarSize, cFileHash, cFileSize, cReferences, cDeriver, cSig };
}
