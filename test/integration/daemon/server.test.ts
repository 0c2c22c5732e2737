import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DaemonServer } from '../../../src/daemon/server.js';
import type { PushEventSink } from '../../../src/push/events.js';
import type { WatchSession } from '../../../src/watch/session.js';

/** What the server asks of a session, recorded; pushNow reports one path done. */
function fakeSession() {
  const added: string[][] = [];
  const session = {
    add: (paths: Iterable<string>) => added.push([...paths]),
    status: () => ({ pushing: 2, queued: 5 }),
    pushNow: async (paths: string[], listener: PushEventSink) => {
      listener({ type: 'path-started', path: paths[0]!, narSize: 1024, attempt: 0 });
      listener({ type: 'path-done', path: paths[0]!, narSize: 1024, fileSize: 512, seconds: 0.1 });
      return { pushed: 1, failed: 0 };
    },
  };
  return { session: session as unknown as WatchSession, added };
}

/** Sends lines, collects the daemon's answers until it has `count` of them. */
function exchange(socketPath: string, lines: string[], count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const answers: unknown[] = [];
    let buffered = '';
    socket.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const part of parts) answers.push(JSON.parse(part));
      if (answers.length >= count) {
        socket.end();
        resolve(answers);
      }
    });
    socket.on('error', reject);
    socket.write(lines.map((l) => `${l}\n`).join(''));
  });
}

describe('daemon server', () => {
  let dir: string;
  let server: DaemonServer;
  let added: string[][];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'daemon-server-'));
    const fake = fakeSession();
    added = fake.added;
    server = await DaemonServer.listen({ socketPath: join(dir, 'd.sock'), cache: 'mycache', session: fake.session });
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers ping and diagnostics, ignores a line that is not JSON, and answers an unknown message with UnsupportedCommand, keeping the connection', async () => {
    const answers = await exchange(join(dir, 'd.sock'), ['{"tag":"ClientPing"}', 'garbage', '{"tag":"Nope"}', '{"tag":"ClientDiagnosticsRequest"}'], 3);
    expect(answers).toEqual([
      { tag: 'DaemonPong' },
      { tag: 'DaemonError', contents: { tag: 'UnsupportedCommand', contents: 'unknown message Nope' } },
      { tag: 'DaemonDiagnosticsResult', contents: { cache: 'mycache', pushing: 2, queued: 5 } },
    ]);
  });

  it('queues a request without subscription; streams the events of one with it, under one push id', async () => {
    const answers = (await exchange(
      join(dir, 'd.sock'),
      [
        '{"tag":"ClientPushRequest","contents":{"storePaths":["/nix/store/a"],"subscribeToUpdates":false}}',
        '{"tag":"ClientPushRequest","contents":{"storePaths":["/nix/store/b"],"subscribeToUpdates":true}}',
      ],
      4,
    )) as { tag: string; contents: { eventPushId: string; eventTimestamp: string; eventMessage: unknown } }[];
    expect(added).toEqual([['/nix/store/a']]);
    // The shapes of the real daemon's PROTOCOL.md: positional contents, a bare PushFinished.
    expect(answers.map((a) => a.contents.eventMessage)).toEqual([
      { tag: 'PushStarted' },
      { tag: 'PushStorePathAttempt', contents: ['/nix/store/b', 1024, { retryCount: 0 }] },
      { tag: 'PushStorePathDone', contents: ['/nix/store/b'] },
      { tag: 'PushFinished' },
    ]);
    expect(new Set(answers.map((a) => a.contents.eventPushId)).size).toBe(1);
    for (const a of answers) expect(Number.isNaN(Date.parse(a.contents.eventTimestamp))).toBe(false);
  });

  it('a daemon without a stop handler (watch-exec’s own, --no-remote-stop) refuses ClientStop and keeps taking paths', async () => {
    const answers = await exchange(join(dir, 'd.sock'), ['{"tag":"ClientStop"}', '{"tag":"ClientPing"}'], 2);
    expect(answers).toEqual([
      { tag: 'DaemonError', contents: { tag: 'UnsupportedCommand', contents: expect.stringMatching(/^this daemon does not take stop requests/) } },
      { tag: 'DaemonPong' },
    ]);
  });
});
