import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32, startStandIn, type FaultConfig, type StandIn } from '../support/standin/index.js';
import { call } from './raw-client.js';

const HASH = '0'.repeat(32);

describe('stand-in fault injection', () => {
  const started: StandIn[] = [];
  const start = async (seed: number, faults?: FaultConfig): Promise<StandIn> => {
    const s = await startStandIn({ seed, faults });
    started.push(s);
    await s.addCache({ name: 'c', managedKey: true });
    return s;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });

  /** Statuses of 40 sequential bulk queries (-1 for a dropped connection). */
  const sequence = async (s: StandIn): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < 40; i++) {
      try {
        out.push((await call('POST', `${s.apiUrl}/api/v1/cache/c/narinfo`, { json: [HASH] })).status);
      } catch {
        out.push(-1);
      }
    }
    return out;
  };

  it('mulberry32 is deterministic per seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect([c(), c(), c()]).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('the same seed gives the same fault sequence; another seed a different one', async () => {
    const config: FaultConfig = { rate: 0.4, kinds: ['500', '429', 'reset', '503'] };
    const first = await sequence(await start(7, config));
    const second = await sequence(await start(7, config));
    const other = await sequence(await start(8, config));
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
    expect(first.filter((x) => x === 200).length).toBeGreaterThan(10);
    expect(first.some((x) => x !== 200)).toBe(true);
    for (const x of first) expect([200, 500, 429, 503, -1]).toContain(x);
  });

  it('429 carries Retry-After, or a problem+json retry_after body', async () => {
    const s = await start(1, { rate: 1, kinds: ['429'], retryAfterSeconds: 3 });
    const plain = await call('GET', `${s.apiUrl}/api/v1/cache/c`);
    expect(plain.status).toBe(429);
    expect(plain.headers['retry-after']).toBe('3');
    s.setFaults({ rate: 1, kinds: ['429'], retryAfterSeconds: 2, problemJson: true });
    const problem = await call('GET', `${s.apiUrl}/api/v1/cache/c`);
    expect(problem.headers['content-type']).toBe('application/problem+json');
    expect(problem.json()).toMatchObject({ retry_after: 2, status: 429 });
    expect(s.faultLog.map((f) => f.kind)).toEqual(['429', '429']);
  });

  it('faults apply only to the routes listed in `on`', async () => {
    const s = await start(1, { rate: 1, kinds: ['500'], on: ['upload'] });
    expect((await call('GET', `${s.apiUrl}/api/v1/cache/c`)).status).toBe(200);
    expect((await call('GET', `${s.cache('c')!.uri}/nix-cache-info`, { token: null })).status).toBe(200);
  });

  it('failNext targets matching requests, then stops; a failed request leaves no state behind', async () => {
    const s = await start(1);
    s.addToken('w', { c: 'Write' });
    s.failNext({ route: 'api', kind: '500', count: 2, pathIncludes: '/multipart-nar' });
    const url = `${s.apiUrl}/api/v1/cache/c/multipart-nar?compression=zst`;
    expect((await call('GET', `${s.apiUrl}/api/v1/cache/c`)).status).toBe(200); // does not match
    expect((await call('POST', url, { token: 'w' })).status).toBe(500);
    expect((await call('POST', url, { token: 'w' })).status).toBe(500);
    expect(s.openUploads()).toBe(0); // the faulted creates created nothing
    expect((await call('POST', url, { token: 'w' })).status).toBe(200);
    expect(s.openUploads()).toBe(1);
    const faulted = s.log.filter((e) => e.fault === '500');
    expect(faulted.map((e) => e.status)).toEqual([500, 500]);
  });

  it('reset drops the connection without an answer', async () => {
    const s = await start(1);
    s.failNext({ route: 'api', kind: 'reset' });
    await expect(call('POST', `${s.apiUrl}/api/v1/cache/c/narinfo`, { json: [HASH] })).rejects.toThrow();
    expect(s.log.at(-1)!.status).toBe(-1);
    expect((await call('POST', `${s.apiUrl}/api/v1/cache/c/narinfo`, { json: [HASH] })).status).toBe(200);
  });

  it('slow delays the answer by slowMs', async () => {
    const s = await start(1, { rate: 0, kinds: ['slow'], slowMs: 250 });
    s.failNext({ route: 'api', kind: 'slow' });
    const t0 = Date.now();
    expect((await call('GET', `${s.apiUrl}/api/v1/cache/c`)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
  });

  it('setDown drops every API connection until brought back up', async () => {
    const s = await start(1);
    s.setDown(true);
    await expect(call('GET', `${s.apiUrl}/api/v1/cache/c`)).rejects.toThrow();
    s.setDown(false);
    expect((await call('GET', `${s.apiUrl}/api/v1/cache/c`)).status).toBe(200);
  });
});
