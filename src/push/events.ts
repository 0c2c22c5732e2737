import type { Compression } from './compression.js';

/** What the push engine reports; renderers in src/ui turn these into output. */
export type PushEvent =
  | { type: 'input-skipped'; input: string; reason: string }
  | { type: 'planned'; closureSize: number; missing: readonly string[]; compression: Compression; destination: string }
  | { type: 'path-started'; path: string; narSize: number; attempt: number }
  | { type: 'path-progress'; path: string; bytes: number; narSize: number }
  | { type: 'path-done'; path: string; narSize: number; fileSize: number; seconds: number }
  | { type: 'path-retrying'; path: string; attempt: number; error: unknown; delayMs: number }
  | { type: 'path-failed'; path: string; error: unknown }
  | { type: 'finished'; pushed: number; alreadyPresent: number; bytes: number; seconds: number }
  /** Watch modes: a batch of reported paths could not even be planned (closure or missing-path query failed). */
  | { type: 'batch-failed'; paths: readonly string[]; error: unknown };

export type PushEventSink = (event: PushEvent) => void;
