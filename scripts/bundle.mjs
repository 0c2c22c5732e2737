// Bundles the compiled CLI (dist/) into dist/bundle/: a few files to load instead of ~70 ES
// modules and their resolution, which every `cachix` run pays at start-up. The hash worker is
// a second entry because it is started by URL, next to the code that starts it.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: { cachix: 'dist/cli.js', 'hash-worker': 'dist/push/hash-worker.js' },
  outdir: 'dist/bundle',
  bundle: true,
  platform: 'node',
  format: 'esm',
  // Commands and heavy modules (undici, ora) stay lazy: each run parses only what it uses.
  splitting: true,
  // Chunks sit beside the entries: the hash worker is found by a URL relative to the chunk that starts it.
  chunkNames: '[name]-[hash]',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  define: { __CACHIX_VERSION__: JSON.stringify(version) },
  // Bundled CommonJS dependencies (commander, undici) call require(); give ESM output one.
  banner: { js: "import { createRequire as __cachixCreateRequire } from 'node:module'; const require = __cachixCreateRequire(import.meta.url);" },
});
