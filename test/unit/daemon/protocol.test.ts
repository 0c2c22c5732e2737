import { describe, expect, it } from 'vitest';
import { decodeClientMessage, encode, lineReader } from '../../../src/daemon/protocol.js';
import { daemonSocketPath } from '../../../src/daemon/socket-path.js';

describe('daemon protocol', () => {
  it('encodes one tagged JSON object per line', () => {
    expect(encode({ tag: 'DaemonPong' })).toBe('{"tag":"DaemonPong"}\n');
    expect(encode({ tag: 'ClientPushRequest', contents: { storePaths: ['/nix/store/a'], subscribeToUpdates: false } })).toBe(
      '{"tag":"ClientPushRequest","contents":{"storePaths":["/nix/store/a"],"subscribeToUpdates":false}}\n',
    );
  });

  it.each([
    ['{"tag":"ClientPing"}', { tag: 'ClientPing' }],
    ['{"tag":"ClientStop","contents":[]}', { tag: 'ClientStop' }],
    ['{"tag":"ClientPushRequest","contents":{"storePaths":["/nix/store/a"]}}', { tag: 'ClientPushRequest', contents: { storePaths: ['/nix/store/a'], subscribeToUpdates: false } }],
    ['{"tag":"ClientPushRequest","contents":{"storePaths":[],"subscribeToUpdates":true}}', { tag: 'ClientPushRequest', contents: { storePaths: [], subscribeToUpdates: true } }],
    ['not json', { error: 'not JSON', kind: 'malformed' }],
    ['[1]', { error: 'expected {"tag": …}', kind: 'unsupported' }],
    ['{"tag":"ClientPushRequest","contents":{"storePaths":[1]}}', { error: 'ClientPushRequest needs contents.storePaths: [string]', kind: 'unsupported' }],
    ['{"tag":"ClientNope"}', { error: 'unknown message ClientNope', kind: 'unsupported' }],
  ])('decodes %s', (line, expected) => {
    expect(decodeClientMessage(line)).toEqual(expected);
  });

  it('splits a stream into lines whatever the chunk boundaries, skipping blank ones', () => {
    const lines: string[] = [];
    const feed = lineReader((l) => lines.push(l));
    for (const chunk of ['{"a"', ':1}\n\n{"b":2}', '\n{"c"', ':3}\n', 'partial']) feed(Buffer.from(chunk));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('finds the socket: --socket, then CACHIX_DAEMON_SOCKET, then XDG_RUNTIME_DIR, then the cache dir', () => {
    const env = { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1', CACHIX_DAEMON_SOCKET: '/tmp/d.sock' };
    expect(daemonSocketPath(env, '/x.sock')).toBe('/x.sock');
    expect(daemonSocketPath(env)).toBe('/tmp/d.sock');
    expect(daemonSocketPath({ ...env, CACHIX_DAEMON_SOCKET: '' })).toBe('/run/user/1/cachix/cachix-daemon.sock');
    expect(daemonSocketPath({ HOME: '/home/u' })).toBe('/home/u/.cache/cachix/cachix-daemon.sock');
    expect(daemonSocketPath({ HOME: '/home/u', XDG_CACHE_HOME: '/c' })).toBe('/c/cachix/cachix-daemon.sock');
  });
});
