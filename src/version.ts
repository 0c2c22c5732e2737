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

export function userAgent(): string {
  return `cachix ${version()}`;
}
