/**
 * The HTTP retry policy of the real client 1.11.1 (spec §6.8): retry 429, 5xx and
 * transport errors with "full jitter" exponential backoff (1 s base, each wait at most
 * 15 s), giving up once the waits would add up to more than 90 s. A server's
 * Retry-After (or problem+json `retry_after`) replaces the next wait, clamped to 120 s.
 * Every bound is injectable so tests run in milliseconds.
 */
export interface RetryPolicy {
  baseMs: number;
  capMs: number;
  budgetMs: number;
  retryAfterMaxMs: number;
  /** Multiplies server-requested waits (Retry-After); 1 except under CACHIX_RETRY_SCALE. */
  retryAfterScale: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 1000,
  capMs: 15_000,
  budgetMs: 90_000,
  retryAfterMaxMs: 120_000,
  retryAfterScale: 1,
  // A ref'd timer on purpose: during a backoff it may be the only thing keeping the process alive.
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

export interface RetryDecision {
  retry: boolean;
  /** Wait requested by the server, in ms. */
  retryAfterMs?: number | undefined;
}

export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  classify: (error: unknown) => RetryDecision,
  policy: RetryPolicy,
): Promise<T> {
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const decision = classify(error);
      if (!decision.retry) throw error;
      const backoff = policy.random() * Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
      const delay =
        decision.retryAfterMs !== undefined && decision.retryAfterMs > 0
          ? Math.min(decision.retryAfterMs * policy.retryAfterScale, policy.retryAfterMaxMs)
          : backoff;
      if (waited + delay > policy.budgetMs) throw error;
      waited += delay;
      await policy.sleep(delay);
    }
  }
}

/** Retry-After as integer seconds or an HTTP date; undefined when absent, invalid or not in the future. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed) * 1000;
    return ms > 0 ? ms : undefined;
  }
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  const ms = date - now;
  return ms > 0 ? ms : undefined;
}

/** `retry_after` (integer seconds) from an application/problem+json or application/json error body. */
export function parseRetryAfterBody(contentType: string | undefined, body: string | undefined): number | undefined {
  if (!body || !contentType || !/application\/(problem\+)?json/i.test(contentType)) return undefined;
  try {
    const parsed = JSON.parse(body) as { retry_after?: unknown };
    const value = parsed.retry_after;
    return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value * 1000 : undefined;
  } catch {
    return undefined;
  }
}
