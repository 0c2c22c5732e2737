import type { RetryPolicy } from '../api/retry.js';
import { DEFAULT_RETRY_POLICY } from '../api/retry.js';
import { DEFAULT_PATH_RETRY, type PathRetryPolicy } from '../push/engine.js';

/**
 * `CACHIX_RETRY_SCALE` multiplies every retry wait and bound (HTTP backoff, its 90 s
 * budget, the 5 s between whole-path attempts). 1 is the real client's timing; tests
 * and impatient CI jobs use a small fraction such as 0.01.
 */
export function retryScale(env: NodeJS.ProcessEnv): number {
  const value = Number(env.CACHIX_RETRY_SCALE ?? '1');
  return Number.isFinite(value) && value >= 0 ? value : 1;
}

export function httpRetryPolicy(env: NodeJS.ProcessEnv): Partial<RetryPolicy> {
  const scale = retryScale(env);
  const d = DEFAULT_RETRY_POLICY;
  return { baseMs: d.baseMs * scale, capMs: d.capMs * scale, budgetMs: d.budgetMs * scale, retryAfterMaxMs: d.retryAfterMaxMs * scale, retryAfterScale: scale };
}

export function pathRetryPolicy(env: NodeJS.ProcessEnv): PathRetryPolicy {
  return { ...DEFAULT_PATH_RETRY, delayMs: DEFAULT_PATH_RETRY.delayMs * retryScale(env) };
}
