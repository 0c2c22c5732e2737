/** Assertions on what the CLI printed. */
import { expect } from 'vitest';
import type { CliResult } from '../../support/cli.js';

export function nonEmptyLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** No stack frame and no Node/undici internal dump. */
export function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at .+[:(]/m);
  expect(text).not.toMatch(/node:internal|\[cause\]|Error: .*\n\s+\{/);
}

/**
 * A failed run: exit code not 0, exactly one non-empty stderr line, matching `pattern`,
 * no stack trace, nothing on stdout.
 */
export function expectOneLineFailure(result: CliResult, pattern: RegExp): string {
  expect(result.code, `stderr was: ${result.stderr}`).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = nonEmptyLines(result.stderr);
  expect(lines, `stderr was: ${result.stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expectNoStackTrace(result.stderr);
  expect(result.stdout).toBe('');
  return lines[0]!;
}

/** The lines that report an error (the CLI's `cachix:` lines and commander's `error:` lines). */
export function errorLines(stderr: string): string[] {
  return nonEmptyLines(stderr).filter((l) => /^(cachix|error):/.test(l));
}
