import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Tests run the real CLI (dist/bundle, built from dist/): build both once per test run.
 *
 * Every temp file of the run (isolated homes, stand-in data, the GC roots of test closures, the
 * CLI's own spool files) goes under one directory, removed when the run ends: a developer's disk
 * does not fill up run after run, and the test closures become garbage Nix may collect.
 */
export default function setup(): () => void {
  const root = resolve(import.meta.dirname, '../..');
  execFileSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [resolve(root, 'scripts/bundle.mjs')], { cwd: root, stdio: 'inherit' });
  const runDir = mkdtempSync(join(tmpdir(), 'cachix-test-run-'));
  process.env.TMPDIR = runDir; // test workers and every process they start inherit it
  return () => rmSync(runDir, { recursive: true, force: true });
}
