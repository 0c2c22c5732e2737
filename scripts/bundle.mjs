// Bundles the compiled CLI (dist/) into dist/bundle/: a few files to load instead of ~70 ES
// modules and their resolution, which every `cachix` run pays at start-up. The hash worker is
// a second entry because it is started by URL, next to the code that starts it.
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// undici's HTTP/2 client loads node:http2, and with it node:tls: ~10 ms of every start-up, for a
// protocol the client never negotiates (allowH2 stays off). undici already guards that require
// for Node builds without http2 (`catch { http2 = { constants: {} } }`); in the bundle it takes
// that branch.
const withoutHttp2 = {
  name: 'undici-without-http2',
  setup(b) {
    b.onResolve({ filter: /^(node:)?http2$/ }, (args) => (/[\\/]undici[\\/]/.test(args.importer) ? { path: 'http2', namespace: 'no-http2' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'no-http2' }, () => ({ contents: "throw new Error('node:http2 is left out of the cachix bundle');", loader: 'js' }));
  },
};

// Chunk names carry content hashes: start clean so stale chunks do not pile up.
rmSync('dist/bundle', { recursive: true, force: true });

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
  plugins: [withoutHttp2],
  banner: { js: "import { createRequire as __cachixCreateRequire } from 'node:module'; const require = __cachixCreateRequire(import.meta.url);" },
});
