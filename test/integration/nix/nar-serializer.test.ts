import { spawnSync } from 'node:child_process';
import { beforeAll, expect, it } from 'vitest';
import { serializeNar } from '../../../src/nix/nar-serializer.js';
import { describeNix } from '../../support/nix/available.js';
import { makeTestClosure, type TestClosure } from '../../support/nix/closure.js';

describeNix('in-process NAR serializer', () => {
  let closure: TestClosure;
  beforeAll(async () => {
    closure = await makeTestClosure();
  });

  it('is byte-identical to nix-store --dump for directories, executables, symlinks, empty files and dirs', async () => {
    expect(closure.paths).toHaveLength(7);
    for (const path of closure.paths) {
      const expected = spawnSync('nix-store', ['--dump', path], { maxBuffer: 1 << 30 }).stdout;
      expect(serializeNar(path).equals(expected), path).toBe(true);
    }
  });

  it('fails clearly on something that is not a file, directory or symlink', () => {
    expect(() => serializeNar('/dev/null')).toThrow(/cannot be put in a NAR/);
  });
});
