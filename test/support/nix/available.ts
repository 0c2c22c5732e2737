/**
 * Whether real Nix can be used. Locally a missing Nix skips the Nix tests; in CI
 * (`CI=true`) it is an error, so a broken CI image cannot silently skip them.
 */
import { describe, it } from 'vitest';
import { runSync } from './run.js';

let cached: boolean | undefined;

export function nixAvailable(): boolean {
  if (cached === undefined) {
    const result = runSync('nix-store', ['--version']);
    cached = result.code === 0 && /nix-store \(Nix\) \d/.test(result.stdout);
  }
  return cached;
}

/** True if Nix works; false (skip) when it does not, except in CI where it throws. */
export function requireNix(): boolean {
  if (nixAvailable()) return true;
  if (process.env.CI === 'true') {
    throw new Error('real Nix (nix-store) is required in CI but does not work here; run scripts/install-nix.sh');
  }
  return false;
}

/** `describe` when Nix works, `describe.skip` otherwise; throws at import time in CI without Nix. */
export const describeNix: typeof describe = requireNix() ? describe : (describe.skip as typeof describe);
/** `it` when Nix works, `it.skip` otherwise; throws at import time in CI without Nix. */
export const itNix: typeof it = requireNix() ? it : (it.skip as typeof it);
