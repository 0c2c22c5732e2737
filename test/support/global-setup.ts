import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** Tests run the real CLI (dist/bundle, built from dist/): build both once per test run. */
export default function setup(): void {
  const root = resolve(import.meta.dirname, '../..');
  execFileSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [resolve(root, 'scripts/bundle.mjs')], { cwd: root, stdio: 'inherit' });
}
