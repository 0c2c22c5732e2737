import { describe, expect, it } from 'vitest';
import { classifyHttpError, HttpStatusError, TransportError } from '../../../src/api/http.js';
import { parseRetryAfter, parseRetryAfterBody, withRetry, type RetryPolicy } from '../../../src/api/retry.js';

function policy(overrides: Partial<RetryPolicy> = {}) {
  const waits: number[] = [];
  const p: RetryPolicy = {
    baseMs: 1000,
    capMs: 15_000,
    budgetMs: 90_000,
    retryAfterMaxMs: 120_000,
    retryAfterScale: 1,
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 1,
    ...overrides,
  };
  return { p, waits };
}

const status = (code: number, headers: Record<string, string> = {}, body = '') => new HttpStatusError('GET /x', code, headers, body);
const transport = (code: string) => new TransportError('GET /x', code, new Error(code));

async function attempts(errors: unknown[], p: RetryPolicy): Promise<{ calls: number; result: unknown }> {
  let calls = 0;
  try {
    const result = await withRetry(
      async () => {
        const e = errors[calls++];
        if (e) throw e;
        return 'ok';
      },
      classifyHttpError,
      p,
    );
    return { calls, result };
  } catch (error) {
    return { calls, result: error };
  }
}

describe('HTTP retry policy (spec §6.8)', () => {
  it.each([500, 502, 503, 429])('retries HTTP %i and then succeeds', async (code) => {
    const { p } = policy();
    expect(await attempts([status(code), status(code)], p)).toEqual({ calls: 3, result: 'ok' });
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT'])('retries transport error %s', async (code) => {
    const { p } = policy();
    expect((await attempts([transport(code)], p)).result).toBe('ok');
  });

  it.each([400, 401, 403, 404, 409])('never retries HTTP %i', async (code) => {
    const { p, waits } = policy();
    const { calls, result } = await attempts([status(code), status(code)], p);
    expect(calls).toBe(1);
    expect(result).toBeInstanceOf(HttpStatusError);
    expect(waits).toEqual([]);
  });

  it('uses exponential backoff capped at 15 s per wait (full jitter upper bound)', async () => {
    const { p, waits } = policy();
    await attempts(Array.from({ length: 7 }, () => status(503)), p);
    expect(waits).toEqual([1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });

  it('draws each wait uniformly below the bound (full jitter)', async () => {
    const { p, waits } = policy({ random: () => 0.5 });
    await attempts([status(503), status(503)], p);
    expect(waits).toEqual([500, 1000]);
  });

  it('gives up once the waits would exceed the 90 s budget', async () => {
    const { p, waits } = policy();
    const { result } = await attempts(Array.from({ length: 100 }, () => status(500)), p);
    expect(result).toBeInstanceOf(HttpStatusError);
    const total = waits.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(90_000);
    expect(total + 15_000).toBeGreaterThan(90_000);
  });

  it('honours Retry-After in seconds, clamped to 120 s', async () => {
    const { p, waits } = policy({ budgetMs: 1_000_000 });
    await attempts([status(429, { 'retry-after': '7' }), status(503, { 'retry-after': '500' })], p);
    expect(waits).toEqual([7000, 120_000]);
  });

  it('scales server-requested waits with the policy (CACHIX_RETRY_SCALE)', async () => {
    const { p, waits } = policy({ retryAfterScale: 0.01, budgetMs: 900, retryAfterMaxMs: 1200 });
    const { result } = await attempts([status(429, { 'retry-after': '1' }), status(429, { 'retry-after': '1' })], p);
    expect(result).toBe('ok');
    expect(waits).toEqual([10, 10]);
  });

  it('honours problem+json retry_after', async () => {
    const { p, waits } = policy();
    await attempts([status(429, { 'content-type': 'application/problem+json' }, '{"retry_after": 3}')], p);
    expect(waits).toEqual([3000]);
  });

  it('parses Retry-After dates and ignores past or garbage values', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('0', now)).toBeUndefined();
    expect(parseRetryAfterBody('application/json', '{"retry_after":"x"}')).toBeUndefined();
    expect(parseRetryAfterBody('text/plain', '{"retry_after":3}')).toBeUndefined();
  });
});
