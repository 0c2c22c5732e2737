/**
 * The daemon's socket protocol (spec §8; the real client's PROTOCOL.md): one JSON value per
 * line, Aeson-style tagged objects `{"tag": …, "contents": …}`; push events carry positional
 * `contents` arrays, as Aeson encodes constructors with several fields.
 */
export type ClientMessage =
  | { tag: 'ClientPushRequest'; contents: { storePaths: string[]; subscribeToUpdates: boolean } }
  | { tag: 'ClientStop' }
  | { tag: 'ClientPing' }
  | { tag: 'ClientDiagnosticsRequest' };

export type PushEventMessage =
  | { tag: 'PushStarted' }
  /** [store path, NAR size, retry status] */
  | { tag: 'PushStorePathAttempt'; contents: [string, number, { retryCount: number }] }
  /** [store path, bytes so far, total] */
  | { tag: 'PushStorePathProgress'; contents: [string, number, number] }
  | { tag: 'PushStorePathDone'; contents: [string] }
  /** [store path, error message]; also for an input that is not a valid store path */
  | { tag: 'PushStorePathFailed'; contents: [string, string] }
  | { tag: 'PushFinished' };

export type DaemonMessage =
  | { tag: 'DaemonPong' }
  | { tag: 'DaemonExit'; contents: { exitCode: number; exitMessage: string | null } }
  | { tag: 'DaemonPushEvent'; contents: { eventTimestamp: string; eventPushId: string; eventMessage: PushEventMessage } }
  | { tag: 'DaemonError'; contents: { tag: 'UnsupportedCommand'; contents: string } }
  | { tag: 'DaemonDiagnosticsResult'; contents: { cache: string; pushing: number; queued: number } };

export function encode(message: ClientMessage | DaemonMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * A client line as a message, or what is wrong with it: `unsupported` is answered with
 * DaemonError (UnsupportedCommand), `malformed` (not JSON) only logged, as the real daemon does.
 */
export function decodeClientMessage(line: string): ClientMessage | { error: string; kind: 'unsupported' | 'malformed' } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'not JSON', kind: 'malformed' };
  }
  if (typeof value !== 'object' || value === null || typeof (value as { tag?: unknown }).tag !== 'string') return { error: 'expected {"tag": …}', kind: 'unsupported' };
  const { tag, contents } = value as { tag: string; contents?: unknown };
  switch (tag) {
    case 'ClientStop':
    case 'ClientPing':
    case 'ClientDiagnosticsRequest':
      return { tag };
    case 'ClientPushRequest': {
      const c = contents as { storePaths?: unknown; subscribeToUpdates?: unknown } | undefined;
      if (!c || !Array.isArray(c.storePaths) || !c.storePaths.every((p) => typeof p === 'string')) {
        return { error: 'ClientPushRequest needs contents.storePaths: [string]', kind: 'unsupported' };
      }
      return { tag, contents: { storePaths: c.storePaths as string[], subscribeToUpdates: c.subscribeToUpdates === true } };
    }
    default:
      return { error: `unknown message ${tag}`, kind: 'unsupported' };
  }
}

/** A daemon line as a message (the client trusts its own daemon's shapes beyond the tag). */
export function decodeDaemonMessage(line: string): DaemonMessage | undefined {
  try {
    const value = JSON.parse(line) as DaemonMessage;
    return typeof value?.tag === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Splits a byte stream into lines; calls `onLine` for each complete one. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer) => void {
  let buffered = '';
  return (chunk) => {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line !== '') onLine(line);
    }
  };
}
