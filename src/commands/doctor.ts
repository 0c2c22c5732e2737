import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CachixApi } from '../api/client.js';
import { apiFor } from '../api/for-settings.js';
import { ApiError } from '../api/errors.js';
import type { BinaryCache } from '../api/types.js';
import { readConfigFile } from '../config/file.js';
import { findSigningKey, loadSettings, type Settings } from '../config/settings.js';
import { httpRetryPolicy, retryScale } from '../config/tuning.js';
import { DEFAULT_HOSTNAME } from '../config/types.js';
import type { Context } from '../context.js';
import { describeError } from '../errors.js';
import { parseCacheTarget, type CacheTarget } from '../nix/cache-name.js';
import { parsePublicKeyNix, parseSecretKey } from '../nix/keys.js';
import { NixStore } from '../nix/store.js';
import { storeHashOf } from '../nix/store-path.js';
import { exists } from '../util/fs-access.js';
import { redact } from '../util/redact.js';

export interface DoctorArgs {
  /** --cache: check only this cache instead of the config's binaryCaches. */
  cache: string | undefined;
  /** A store path, a symlink into the store, or a bare 32-character store hash. */
  storePath: string | undefined;
}

type Mark = '✓' | '!' | '✗';

/** Check lines on stdout as they are decided: a slow server shows which check is waiting. */
class Report {
  failed = false;
  warned = false;
  constructor(private readonly out: Context['stdout']) {}

  heading(text: string, first = false): void {
    this.write(first ? text : `\n${text}`);
  }
  check(mark: Mark, text: string): void {
    if (mark === '✗') this.failed = true;
    if (mark === '!') this.warned = true;
    this.write(`  ${mark} ${text}`);
  }
  info(text: string): void {
    this.write(`    ${text}`);
  }
  private write(line: string): void {
    // A server's error text may echo a token back: everything printed is redacted.
    this.out.write(`${redact(line)}\n`);
  }
}

/** A checked cache, kept for the store-path lookup. */
type Checked = { target: CacheTarget; label: string; reachable: boolean };

// A diagnosis should come back quickly: 10 s of retries instead of a push's 90 s (scaled alike).
const DOCTOR_RETRY_BUDGET_MS = 10_000;

const STORE_HASH_RE = /^[0-9abcdfghijklmnpqrsvwxyz]{32}$/;

/**
 * `cachix doctor [--cache NAME] [STORE-PATH]` (spec §8): config file, token, each cache's
 * lookup and optionally whether a store path is in the caches. `✓` passed, `!` warning,
 * `✗` failed; exit 1 if any check failed.
 */
export async function run(ctx: Context, args: DoctorArgs): Promise<number> {
  const report = new Report(ctx.stdout);
  report.heading('Configuration', true);
  const settings = await checkConfiguration(ctx, report);
  if (settings) {
    const api = await apiFor(ctx, settings, { retry: { ...httpRetryPolicy(ctx.env), budgetMs: DOCTOR_RETRY_BUDGET_MS * retryScale(ctx.env) } });
    try {
      const caches = await checkCaches(ctx, report, api, settings, args.cache);
      if (args.storePath !== undefined) await checkStorePath(report, api, caches, args.storePath);
    } finally {
      await api.close();
    }
  }
  ctx.stdout.write(report.failed ? '\nSome checks failed.\n' : `\nAll checks passed${report.warned ? ' (see the warnings above)' : ''}.\n`);
  return report.failed ? 1 : 0;
}

/** Config file, host and token; undefined when the config cannot be used at all. */
async function checkConfiguration(ctx: Context, report: Report): Promise<Settings | undefined> {
  const present = await exists(ctx.configPath);
  try {
    await readConfigFile(ctx.configPath);
  } catch (error) {
    report.check('✗', `Config file ${ctx.configPath}: ${describeError(error)}`);
    return undefined;
  }
  report.check(present ? '✓' : '!', present ? `Config file ${ctx.configPath}` : `No config file at ${ctx.configPath} (defaults in use)`);
  let settings: Settings;
  try {
    settings = await loadSettings(ctx);
  } catch (error) {
    report.check('✗', `Host: ${describeError(error)}`);
    return undefined;
  }
  const hostSource = ctx.hostOverride !== undefined ? 'from --host' : settings.config.hostname !== DEFAULT_HOSTNAME ? 'from the config file' : 'default';
  report.check('✓', `Host ${settings.hostname} (${hostSource})`);
  if (settings.authToken === undefined) {
    report.check('!', 'No auth token: private caches, push and pin need one (cachix authtoken, or CACHIX_AUTH_TOKEN)');
  } else if (settings.authToken === '') {
    report.check('!', 'CACHIX_AUTH_TOKEN is set but empty: requests carry no token');
  } else {
    report.check('✓', `Auth token set (${settings.authTokenSource === 'env' ? 'from CACHIX_AUTH_TOKEN' : 'from the config file'})`);
  }
  return settings;
}

async function checkCaches(ctx: Context, report: Report, api: CachixApi, settings: Settings, only: string | undefined): Promise<Checked[]> {
  const names = only !== undefined ? [only] : [...new Set(settings.config.binaryCaches.map((c) => c.name))];
  if (names.length === 0) {
    report.heading('Caches');
    report.check('!', 'No caches in the config file: give --cache NAME to check one');
    return [];
  }
  const checked: Checked[] = [];
  for (const name of names) {
    report.heading(`Cache ${name}`);
    let target: CacheTarget;
    try {
      target = parseCacheTarget(name);
    } catch (error) {
      report.check('✗', describeError(error));
      continue;
    }
    const reachable = target.kind === 'local' ? await checkLocalCache(report, target.dir) : await checkRemoteCache(ctx, report, api, settings, target.name);
    checked.push({ target, label: name, reachable });
  }
  return checked;
}

async function checkLocalCache(report: Report, dir: string): Promise<boolean> {
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  report.check(isDir ? '✓' : '✗', isDir ? `Local cache directory ${dir}` : `Local cache directory ${dir} does not exist`);
  return isDir;
}

async function checkRemoteCache(ctx: Context, report: Report, api: CachixApi, settings: Settings, name: string): Promise<boolean> {
  let cache: BinaryCache;
  try {
    cache = await api.getCache(name);
  } catch (error) {
    report.check('✗', lookupFailure(error, name, settings));
    return false;
  }
  report.check('✓', `Found: ${cache.isPublic ? 'public' : 'private'} cache, your permission: ${cache.permission}`);
  report.info(`URI: ${cache.uri}`);
  for (const key of cache.publicSigningKeys) report.info(`Public key: ${key}`);
  if (cache.publicSigningKeys.length === 0) report.check('!', 'The cache lists no public signing key: Nix cannot verify its paths');
  checkSigningKey(ctx, report, settings, cache);
  return true;
}

/** spec §1.5's distinctions, as diagnoses rather than errors. */
function lookupFailure(error: unknown, name: string, settings: Settings): string {
  const status = statusOf(error);
  const hasToken = settings.authToken !== undefined && settings.authToken !== '';
  switch (status) {
    case 401:
      return hasToken
        ? 'Access refused (HTTP 401): the token is invalid or expired, or may not read this cache'
        : 'Access refused (HTTP 401): the cache is private (or does not exist) and no auth token is set';
    case 403:
      return 'Access refused (HTTP 403): the token may not read this cache';
    case 404:
      return `Not found (HTTP 404): there is no cache ${name} on ${settings.hostname}`;
    case undefined:
      return `Cannot reach ${settings.hostname}: ${describeError(error)}`;
    default:
      return `Lookup failed (HTTP ${status}): ${describeError(error)}`;
  }
}

/** The HTTP status behind an error; the client may wrap its ApiError in a friendlier one. */
function statusOf(error: unknown): number | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    if (current instanceof ApiError && current.status !== undefined) return current.status;
  }
  return undefined;
}

/** A local signing key must be one the cache publishes, or Nix rejects what it signs. */
function checkSigningKey(ctx: Context, report: Report, settings: Settings, cache: BinaryCache): void {
  const found = findSigningKey(settings, ctx.env, cache.name);
  if (!found) {
    report.info('Signing key: none here (a push is then signed by Cachix, if the cache has a managed key)');
    return;
  }
  let publicKey: Buffer;
  try {
    publicKey = parseSecretKey(found.text, found.source).publicKey;
  } catch (error) {
    report.check('✗', `Signing key: ${describeError(error)}`);
    return;
  }
  const match = cache.publicSigningKeys.find((text) => {
    try {
      return parsePublicKeyNix(text).key.equals(publicKey);
    } catch {
      return false;
    }
  });
  const source = found.source === 'CACHIX_SIGNING_KEY' ? 'CACHIX_SIGNING_KEY' : 'the config file';
  if (match) report.check('✓', `Signing key from ${source} matches ${match.split(':')[0]}`);
  else report.check('✗', `Signing key from ${source} is not one of the cache's public keys: Nix would reject the paths it signs`);
}

async function checkStorePath(report: Report, api: CachixApi, caches: Checked[], input: string): Promise<void> {
  report.heading(`Store path ${input}`);
  let hash: string;
  try {
    hash = STORE_HASH_RE.test(input) ? input : storeHashOf(await new NixStore().toStorePath(input));
  } catch (error) {
    report.check('✗', `Not a store path, a symlink into the store, or a 32-character hash: ${describeError(error)}`);
    return;
  }
  report.info(`Hash: ${hash}`);
  if (caches.length === 0) {
    report.check('✗', 'No cache to look in: give --cache NAME');
    return;
  }
  for (const { target, label, reachable } of caches) {
    if (!reachable) {
      report.info(`${label}: not looked up (the cache check failed)`);
      continue;
    }
    let present: boolean;
    try {
      present =
        target.kind === 'local'
          ? await exists(join(target.dir, `${hash}.narinfo`))
          : (await api.missingHashes(target.name, [hash])).length === 0;
    } catch (error) {
      report.check('✗', `${label}: lookup failed: ${describeError(error)}`);
      continue;
    }
    report.check(present ? '✓' : '!', present ? `In ${label}` : `Not in ${label}`);
  }
}
