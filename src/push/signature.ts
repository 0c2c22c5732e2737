import { fingerprint } from '../nix/fingerprint.js';
import { signBytes, type SecretKey } from '../nix/keys.js';
import type { PathInfo } from '../nix/store.js';
import type { Signer } from './destination.js';
import type { NarSummary } from './nar-stream.js';

export function signerFor(key: SecretKey, keyName?: string): Signer {
  return {
    keyName: keyName ?? key.name,
    sign: (text) => signBytes(key, text).toString('base64'),
  };
}

/** The signature of a path's narinfo (spec §6.7), or null when there is no key. */
export function signNarInfo(signer: Signer | undefined, info: PathInfo, summary: NarSummary): string | null {
  if (!signer) return null;
  return signer.sign(fingerprint(info.path, summary.narHash, summary.narSize, info.references));
}
