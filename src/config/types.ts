/** The cachix.dhall record, in the real client's shape (spec §2.2). */
export interface BinaryCacheConfig {
  /** Cache name, or for local caches the destination URL (e.g. `file:///srv/cache`). */
  name: string;
  /** Bare base64 of the 64-byte ed25519 secret key. */
  secretKey: string;
}

export interface CachixConfig {
  authToken: string;
  hostname: string;
  binaryCaches: BinaryCacheConfig[];
}

export const DEFAULT_HOSTNAME = 'https://cachix.org';

export function defaultConfig(): CachixConfig {
  return { authToken: '', hostname: DEFAULT_HOSTNAME, binaryCaches: [] };
}
