import { join } from 'node:path';
import type { CachixConfig } from '../config/types.js';
import { CachixError } from '../errors.js';
import { formatPublicKeyNix, parseSecretKey } from '../nix/keys.js';
import type { ReadText } from './nixconf-tree.js';

/** A file beside a local cache's data that holds its public key (`name:base64`), for machines without the secret. */
export const LOCAL_PUBLIC_KEY_FILE = '.cachix-public-key';

const PUBLIC_KEY_RE = /^[^\s:]+:[A-Za-z0-9+/]{43}=$/;

/**
 * The public key of a local cache (`file:///dir`): derived from the secret that
 * `generate-keypair file:///dir` keeps in the config (entry named by the URL, Nix
 * `name:base64` form), else read from `<dir>/.cachix-public-key`.
 */
export async function localCachePublicKey(config: CachixConfig, url: string, dir: string, read: ReadText): Promise<string> {
  const entry = config.binaryCaches.filter((c) => c.name === url).pop();
  if (entry) {
    const key = parseSecretKey(entry.secretKey, `the config entry for ${url}`);
    if (key.name !== undefined) return formatPublicKeyNix(key.publicKey, key.name);
  }
  const file = join(dir, LOCAL_PUBLIC_KEY_FILE);
  const text = (await read(file))?.trim();
  if (text !== undefined) {
    if (!PUBLIC_KEY_RE.test(text)) throw new CachixError(`${file} does not hold a Nix public key (name:base64)`);
    return text;
  }
  throw new CachixError(`no public key known for the local cache ${url}`, {
    hint: `run \`cachix generate-keypair ${url}\` on this machine, or put the cache's public key (name:base64) in ${file}`,
  });
}
