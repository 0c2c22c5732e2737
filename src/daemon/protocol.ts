/**
 * The daemon's socket protocol (spec §8; the real client's Daemon/PROTOCOL.md): one JSON value
 * per line, Aeson-style tagged objects `{"tag": …, "contents": …}`.
 */
export type ClientMessage =
  | { tag: 'ClientPushRequest'; contents: { storePaths: string[]; subscribeToUpdates: boolean } }
  | { tag: 'ClientStop' }
  | { tag: 'ClientPing' }
  | { tag: 'ClientDiagnosticsRequest' };

export type PushEventMessage =
  | { tag: 'PushStarted' }
  | { tag: 'PushStorePathAttempt'; contents: { storePath: string; narSize: number; retryCount: number } }
  | { tag: 'PushStorePathDone'; contents: { storePath: string } }
  | { tag: 'PushStorePathFailed'; contents: { storePath: string; reason: string } }
  | { tag: 'PushStorePathInvalid'; contents: { storePath: string; reason: string } }
  | { tag: 'PushFinished'; contents: { pushed: number; failed: number } };

export type DaemonMessage =
  | { tag: 'DaemonPong' }
  | { tag: 'DaemonExit'; contents: { exitCode: number; exitMessage: string | null } }
  | { tag: 'DaemonPushEvent'; contents: { eventTimestamp: string; eventPushId: string; eventMessage: PushEventMessage } }
  | { tag: 'DaemonError'; contents: string }
  | { tag: 'DaemonDiagnosticsResult'; contents: { cache: string; pushing: number; queued: number } };

export function encode(message: ClientMessage | DaemonMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/** A client line as a message, or a description of what is wrong with it. */
export function decodeClientMessage(line: string): ClientMessage | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || typeof (value as { tag?: unknown }).tag !== 'string') return { error: 'expected {"tag": …}' };
  const { tag, contents } = value as { tag: string; contents?: unknown };
  switch (tag) {
    case 'ClientStop':
    case 'ClientPing':
    case 'ClientDiagnosticsRequest':
      return { tag };
    case 'ClientPushRequest': {
      const c = contents as { storePaths?: unknown; subscribeToUpdates?: unknown } | undefined;
      if (!c || !Array.isArray(c.storePaths) || !c.storePaths.every((p) => typeof p === 'string')) {
        return { error: 'ClientPushRequest needs contents.storePaths: [string]' };
      }
      return { tag, contents: { storePaths: c.storePaths as string[], subscribeToUpdates: c.subscribeToUpdates === true } };
    }
    default:
      return { error: `unknown message ${tag}` };
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
