import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { expect, it } from 'vitest';

// The global setup builds dist/bundle (what bin/cachix runs). Code there finds the hash worker by a
// URL relative to its own file; if the bundle layout moves the file, pushes would quietly fall back
// to hashing on the main thread.
it('every bundled reference to the hash worker resolves to a file', () => {
  const dir = resolve(import.meta.dirname, '../../../dist/bundle');
  const referencing = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .filter((f) => /new URL\(["']\.\/hash-worker\.js["'], import\.meta\.url\)/.test(readFileSync(join(dir, f), 'utf8')));
  expect(referencing.length).toBeGreaterThan(0);
  for (const file of referencing) expect(existsSync(join(dirname(join(dir, file)), 'hash-worker.js')), file).toBe(true);
});

it('bakes the package version into the bundle (no package.json needed at run time)', async () => {
  const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../package.json'), 'utf8')) as { version: string };
  const elsewhere = await mkdtemp(join(tmpdir(), 'bundle-copy-'));
  await cp(resolve(import.meta.dirname, '../../../dist/bundle'), join(elsewhere, 'bundle'), { recursive: true });
  const result = spawnSync(process.execPath, ['-e', `import(${JSON.stringify(join(elsewhere, 'bundle', 'cachix.js'))}).then((m) => m.main(['node', 'cachix', '--version']))`], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe(`cachix 1.11.1 (cachix-ts ${pkg.version})\n`);
});
