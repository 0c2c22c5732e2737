import { setMaxListeners } from 'node:events';
import { ApiError } from '../api/errors.js';
import { CachixError, isCachixError } from '../errors.js';
import type { NixStore, PathInfo } from '../nix/store.js';
import { storeHashOf } from '../nix/store-path.js';
import type { Compression } from './compression.js';
import type { Destination, Signer } from './destination.js';
import type { PushEventSink } from './events.js';
import { Readable } from 'node:stream';
import { BatchCompressor } from './batch-compressor.js';
import { openNarStream, type NarSummary } from './nar-stream.js';
import { PushSchedule } from './schedule.js';
import { prepareSmallNar, SMALL_NAR_BYTES } from './small-nar.js';

export interface PathRetryPolicy {
  /** Retries after the first attempt (spec §6.8: 3). */
  retries: number;
  /** Constant wait between attempts (spec: 5 s). */
  delayMs: number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

export const DEFAULT_PATH_RETRY: PathRetryPolicy = {
  retries: 3,
  delayMs: 5000,
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason);
      }, { once: true });
    }),
};

export interface PushRequest {
  store: NixStore;
  destination: Destination;
  /** User inputs: store paths, paths inside them, or symlinks such as ./result. */
  inputs: readonly string[];
  compression: Compression;
  compressionLevel: number;
  jobs: number;
  omitDeriver: boolean;
  signer: Signer | undefined;
  events: PushEventSink;
  signal: AbortSignal;
  pathRetry?: PathRetryPolicy;
  /** The inputs already resolved (`store.resolveWithClosure(inputs)`), when the caller started it early. */
  planned?: ReturnType<NixStore['resolveWithClosure']>;
  /** Shared by the batches of a watch session: one set of limits, one compressor, each path pushed once. */
  session?: PushSession;
  /** Report a failed path and go on with the others (watch modes) instead of cancelling the push. */
  keepGoing?: boolean;
}

/** What successive pushes of one watch session share. */
export interface PushSession {
  schedule: PushSchedule;
  compressor: BatchCompressor;
}

export function openPushSession(req: Pick<PushRequest, 'jobs' | 'compression' | 'compressionLevel'>): PushSession & { close(): Promise<void> } {
  const compressor = new BatchCompressor(req.compression, req.compressionLevel);
  return { schedule: new PushSchedule(req.jobs), compressor, close: () => compressor.close() };
}

export interface PushSummary {
  inputs: number;
  closureSize: number;
  pushed: number;
  alreadyPresent: number;
  bytes: number;
  /** Paths that failed for good (only with keepGoing; otherwise the first failure throws). */
  failed: number;
}

/**
 * The push engine: plan (resolve inputs, closure, ask the destination what it lacks),
 * then stream each missing path `jobs` at a time. It knows nothing of the terminal;
 * everything it has to say goes out as events. The first path that fails for good
 * cancels the rest and fails the push — unless `keepGoing` (watch modes), where a failed
 * path is reported and counted, and only the paths that need it fail with it.
 */
export async function push(req: PushRequest): Promise<PushSummary> {
  const started = Date.now();
  const { resolved, rejected, closure } = await (req.planned ?? req.store.resolveWithClosure(req.inputs));
  for (const r of rejected) req.events({ type: 'input-skipped', input: r.input, reason: r.reason });
  if (req.inputs.length > 0 && resolved.length === 0 && !req.keepGoing) {
    // The real client exits 0 here and CI goes green with nothing pushed.
    const names = rejected.slice(0, 3).map((r) => r.input).join(', ');
    const more = rejected.length > 3 ? ` and ${rejected.length - 3} more` : '';
    throw new CachixError(`none of the given paths can be pushed: ${names}${more}`);
  }
  const own = req.session ? undefined : openPushSession(req);
  const session = req.session ?? own!;
  // In a session, paths claimed by an earlier batch are neither asked about nor pushed again.
  const candidates = closure.filter((p) => !session.schedule.claimed(p));
  const byHash = new Map(candidates.map((p) => [storeHashOf(p), p]));
  const missingHashes = new Set(byHash.size > 0 ? await req.destination.missingHashes([...byHash.keys()], req.signal) : []);
  // Keep Nix's order (references before referrers) so a cache is complete sooner.
  const missing = session.schedule.claim(candidates.filter((p) => missingHashes.has(storeHashOf(p))));
  const mine = new Set(missing);
  const elsewhere = closure.filter((p) => !mine.has(p) && session.schedule.claimed(p));
  try {
    const summary = await pushMissing(req, session, { started, closure, missing });
    // A batch is done when its whole closure is in the cache, including paths another batch of
    // the session took on (their failures are that batch's to report).
    await session.schedule.settled(elsewhere);
    return summary;
  } catch (error) {
    session.schedule.abandon(missing, error);
    throw error;
  } finally {
    await own?.close();
  }
}

async function pushMissing(
  req: PushRequest,
  session: PushSession,
  { started, closure, missing }: { started: number; closure: readonly string[]; missing: string[] },
): Promise<PushSummary> {
  req.events({ type: 'planned', closureSize: closure.length, missing, compression: req.compression, destination: req.destination.label });
  const infos = missing.length > 0 ? await req.store.pathInfos(missing) : new Map<string, PathInfo>();
  const { schedule, compressor } = session;
  const cancel = new AbortController();
  // Every in-flight request listens on this signal; their number is bounded by jobs × parts.
  setMaxListeners(0, cancel.signal);
  const onOuterAbort = (): void => cancel.abort(req.signal.reason);
  req.signal.addEventListener('abort', onOuterAbort, { once: true });
  let bytes = 0;
  let firstError: unknown;
  let failed = 0;
  try {
    await Promise.all(
      missing.map((path) => {
        const info = infos.get(path)!;
        return schedule
          .run(info, async (referencesPublished) => {
            // Throwing (not returning) keeps this path's referrers from registering.
            cancel.signal.throwIfAborted();
            const summary = await pushWithRetry(req, info, compressor, referencesPublished, cancel.signal);
            bytes += summary.fileSize;
          })
          .catch((error: unknown) => {
            // Only the first failure is reported: later ones are the cancellation it causes.
            if (cancel.signal.aborted) return;
            failed++;
            req.events({ type: 'path-failed', path, error });
            if (req.keepGoing) return;
            firstError = error;
            cancel.abort(error);
          });
      }),
    );
  } finally {
    req.signal.removeEventListener('abort', onOuterAbort);
  }
  if (req.signal.aborted) throw req.signal.reason;
  if (firstError !== undefined) throw firstError;
  const seconds = (Date.now() - started) / 1000;
  const pushed = missing.length - failed;
  req.events({ type: 'finished', pushed, alreadyPresent: closure.length - missing.length, bytes, seconds });
  return { inputs: req.inputs.length, closureSize: closure.length, pushed, alreadyPresent: closure.length - missing.length, bytes, failed };
}

/**
 * Fatal errors are the tool's own verdicts (bad path, hash mismatch) and the server's refusals
 * (4xx: bad token, no permission, rejected signature): retrying cannot help, and retrying a
 * revoked token is how CI jobs hang (cachix-action #164). Transport failures, 5xx, 408 and
 * 429 that outlived the HTTP retries get another whole-path attempt.
 */
function isRetryable(error: unknown): boolean {
  if (error instanceof ApiError) {
    return error.status === undefined || error.status >= 500 || error.status === 408 || error.status === 429;
  }
  return !isCachixError(error);
}

async function pushWithRetry(
  req: PushRequest,
  info: PathInfo,
  compressor: BatchCompressor,
  referencesPublished: Promise<void>,
  signal: AbortSignal,
): Promise<NarSummary> {
  const policy = req.pathRetry ?? DEFAULT_PATH_RETRY;
  for (let attempt = 0; ; attempt++) {
    req.events({ type: 'path-started', path: info.path, narSize: info.narSize, attempt });
    const started = Date.now();
    try {
      const summary =
        (info.narSize <= SMALL_NAR_BYTES ? await pushSmall(req, info, compressor, referencesPublished, signal) : undefined) ??
        (await pushOnce(req, info, referencesPublished, signal));
      req.events({ type: 'path-done', path: info.path, narSize: summary.narSize, fileSize: summary.fileSize, seconds: (Date.now() - started) / 1000 });
      return summary;
    } catch (error) {
      if (signal.aborted || attempt >= policy.retries || !isRetryable(error)) throw error;
      req.events({ type: 'path-retrying', path: info.path, attempt: attempt + 1, error, delayMs: policy.delayMs });
      await policy.sleep(policy.delayMs, signal);
    }
  }
}

/** A small path in one piece: in-memory NAR, batch compression. Undefined means "use the dump route". */
async function pushSmall(
  req: PushRequest,
  info: PathInfo,
  compressor: BatchCompressor,
  referencesPublished: Promise<void>,
  signal: AbortSignal,
): Promise<NarSummary | undefined> {
  const small = await prepareSmallNar(info, compressor);
  if (!small) return undefined;
  req.events({ type: 'path-progress', path: info.path, bytes: info.narSize, narSize: info.narSize });
  await req.destination.upload(
    {
      info,
      compression: req.compression,
      compressed: Readable.from([small.compressed]),
      result: Promise.resolve(small.summary),
      signer: req.signer,
      omitDeriver: req.omitDeriver,
      referencesPublished,
    },
    signal,
  );
  return small.summary;
}

async function pushOnce(req: PushRequest, info: PathInfo, referencesPublished: Promise<void>, signal: AbortSignal): Promise<NarSummary> {
  let lastReport = 0;
  const nar = openNarStream(info.path, req.compression, req.compressionLevel, (bytes) => {
    // At most one progress event per MiB keeps renderers cheap on fast pipes.
    if (bytes - lastReport >= 1 << 20 || bytes === info.narSize) {
      lastReport = bytes;
      req.events({ type: 'path-progress', path: info.path, bytes, narSize: info.narSize });
    }
  });
  const verified = nar.result.then((summary) => verifyAgainstStore(req.store, info, summary), async (error: unknown) => {
    throw await explainDumpFailure(req.store, info, error);
  });
  verified.catch(() => undefined);
  const onAbort = (): void => nar.kill();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await uploadExplained(nar, verified, signal, () =>
      req.destination.upload(
      {
        info,
        compression: req.compression,
        compressed: nar.compressed,
        result: verified,
        signer: req.signer,
        omitDeriver: req.omitDeriver,
        referencesPublished,
      },
      signal,
    ));
    return await verified;
  } finally {
    signal.removeEventListener('abort', onAbort);
    nar.kill();
  }
}

/**
 * When an upload fails because the NAR stream broke, the stream's own error ("cannot dump …")
 * reaches the destination first; the verdict on the dump (path garbage-collected, hash
 * mismatch) is the better explanation, so it wins when there is one.
 */
async function uploadExplained(
  nar: { kill(): void },
  verified: Promise<NarSummary>,
  signal: AbortSignal,
  upload: () => Promise<void>,
): Promise<void> {
  try {
    await upload();
  } catch (error) {
    if (signal.aborted) throw error;
    nar.kill();
    const verdict = await verified.then(
      () => undefined,
      (e: unknown) => e,
    );
    throw isCachixError(verdict) ? verdict : error;
  }
}

function verifyAgainstStore(_store: NixStore, info: PathInfo, summary: NarSummary): NarSummary {
  if (summary.narSize === 0) throw new CachixError(`${info.path}: nix-store --dump produced an empty NAR`);
  if (summary.narHash !== info.narHash || summary.narSize !== info.narSize) {
    throw new CachixError(
      `NAR hash mismatch for ${info.path}: the Nix database says ${info.narHash} (${info.narSize} bytes) but its contents give ${summary.narHash} (${summary.narSize} bytes)`,
      { hint: 'the store path is corrupted; repair it with `nix-store --verify --repair --check-contents`' },
    );
  }
  return summary;
}

/** A dump that fails because the path vanished (garbage-collected since planning) says so. */
async function explainDumpFailure(store: NixStore, info: PathInfo, error: unknown): Promise<unknown> {
  const invalid = await store.invalidPaths([info.path]).catch(() => []);
  if (invalid.length > 0) {
    return new CachixError(`${info.path} was removed from the Nix store (garbage-collected?) before it could be pushed`);
  }
  return error;
}
