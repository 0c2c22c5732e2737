import { apiFor } from '../api/for-settings.js';
import type { BinaryCacheCreate } from '../api/types.js';
import { loadSettings, requireAuthToken } from '../config/settings.js';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import { parseCacheTarget } from '../nix/cache-name.js';
import { formatSecretKeyBare, generateSecretKey } from '../nix/keys.js';
import { cachixGuidance, describeRefusal, saveSecret } from './generate-keypair.js';

/**
 * `cachix create CACHE [--private]` (spec §5, the historical command): the key pair is made
 * here, the server only ever sees the public half; the secret is kept once the cache exists.
 */
export async function run(ctx: Context, args: { cache: string; isPrivate: boolean }): Promise<number> {
  // Validated before anything else, so a typo never reaches the server.
  const target = parseCacheTarget(args.cache);
  if (target.kind === 'local') {
    throw new CachixError(`create makes a cache on the Cachix server; ${target.url} is a local directory`, {
      hint: `for a local cache run: cachix generate-keypair ${target.url}`,
    });
  }
  const settings = await loadSettings(ctx);
  const token = requireAuthToken(settings);
  const key = generateSecretKey();
  const body: BinaryCacheCreate = {
    publicSigningKey: key.publicKey.toString('base64'),
    isPublic: !args.isPrivate,
    githubOrganization: null,
    githubTeamId: null,
  };
  const api = await apiFor(ctx, settings, { token });
  try {
    await api.createCache(target.name, body);
  } catch (error) {
    throw describeRefusal(error, `the server refused to create cache ${target.name}`);
  } finally {
    await api.close();
  }
  ctx.stdout.write(`Created ${args.isPrivate ? 'private' : 'public'} cache ${target.name}.\n`);
  const secret = formatSecretKeyBare(key);
  await saveSecret(ctx, settings.config, target.name, secret);
  ctx.stdout.write(cachixGuidance(target.name, secret));
  return 0;
}
