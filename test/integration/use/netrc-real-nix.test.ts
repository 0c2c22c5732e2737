import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertNetrcEntry } from '../../../src/use/netrc.js';

/**
 * The netrc that `use` writes for two private caches must make real Nix send credentials
 * to both: curl (Nix 2.8) drops them for a login-less entry that another entry follows.
 * Two logging servers on two loopback hosts stand in for the caches.
 */
const run = promisify(execFile);
const haveNix = existsSync('/usr/bin/nix-store');

interface Logged {
  server: Server;
  url: string;
  auth: (string | undefined)[];
}

async function logServer(host: string): Promise<Logged> {
  const auth: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    auth.push(req.headers.authorization);
    if (req.url === '/nix-cache-info') res.end('StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, url: `http://${host}:${(server.address() as AddressInfo).port}`, auth };
}

const basic = (password: string, login = '') => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;

describe.skipIf(!haveNix)('netrc written by use, read by real Nix', () => {
  let dir: string;
  let a: Logged;
  let b: Logged;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cachix-netrc-nix-'));
    a = await logServer('127.0.0.2');
    b = await logServer('127.0.0.3');
  });

  afterAll(async () => {
    a.server.close();
    b.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function substitute(netrc: string): Promise<void> {
    a.auth.length = 0;
    b.auth.length = 0;
    const netrcFile = join(dir, 'netrc');
    await writeFile(netrcFile, netrc, { mode: 0o600 });
    const store = await mkdtemp(join(dir, 'store-'));
    const cache = await mkdtemp(join(dir, 'xdg-cache-'));
    const args = ['--store', store, '-r', `/nix/store/${'a'.repeat(32)}-x`, '--option', 'substituters', `${a.url} ${b.url}`, '--option', 'netrc-file', netrcFile];
    // The path exists nowhere, so Nix fails after asking both caches; only the requests matter.
    await run('nix-store', args, { env: { ...process.env, XDG_CACHE_HOME: cache }, timeout: 30_000 }).catch(() => undefined);
  }

  it('sends each cache its own token when both entries are in one netrc', async () => {
    const netrc = upsertNetrcEntry(upsertNetrcEntry('', '127.0.0.3', 'tokenB'), '127.0.0.2', 'tokenA');
    await substitute(netrc);
    expect(a.auth.length).toBeGreaterThan(0);
    expect(b.auth.length).toBeGreaterThan(0);
    expect(new Set(a.auth)).toEqual(new Set([basic('tokenA', 'cachix')]));
    expect(new Set(b.auth)).toEqual(new Set([basic('tokenB', 'cachix')]));
  });

  it('(why the login is written) the real client\'s login-less first entry gets no credentials', async () => {
    await substitute('machine 127.0.0.2 password tokenA\n\nmachine 127.0.0.3 password tokenB\n');
    expect(new Set(a.auth)).toEqual(new Set([undefined]));
    expect(new Set(b.auth)).toEqual(new Set([basic('tokenB')]));
  });
});
