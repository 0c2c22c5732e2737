import { readFileSync } from 'node:fs';

/** Replaced with the package version by the bundler (scripts/bundle.mjs); unset in the plain tsc build. */
declare const __CACHIX_VERSION__: string | undefined;

let cached: string | undefined;

/** The package version: baked into the bundle, else read once from package.json (one level above dist/ and src/). */
export function version(): string {
  if (cached === undefined) {
    if (typeof __CACHIX_VERSION__ === 'string') {
      cached = __CACHIX_VERSION__;
    } else {
      const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
      cached = pkg.version;
    }
  }
  return cached;
}

/**
 * The cachix release whose command line and protocol this implements (spec: 1.11.1). Tools pick
 * features by the version `cachix --version` reports — cachix-action, for one, uses the daemon
 * only from 1.7.0 on — so it comes first, and this package's own version in parentheses.
 */
export const COMPATIBLE_CACHIX_VERSION = '1.11.1';

/** `cachix 1.11.1 (cachix-ts 0.1.0)`: the --version line and the User-Agent alike. */
export function versionLine(): string {
  return `cachix ${COMPATIBLE_CACHIX_VERSION} (cachix-ts ${version()})`;
}

export function userAgent(): string {
  return versionLine();
}
