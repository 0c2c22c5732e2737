import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachixError } from '../../../src/errors.js';
import { checkWritable } from '../../../src/use/write-target.js';

describe('checkWritable', () => {
  let dir: string;
  let store: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cachix-wt-'));
    store = join(dir, 'nix/store');
    await mkdir(store, { recursive: true });
  });

  afterEach(async () => {
    await chmod(join(store), 0o755).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a missing file and a writable regular file', async () => {
    await expect(checkWritable(join(dir, 'missing.conf'), [store])).resolves.toBeUndefined();
    await writeFile(join(dir, 'nix.conf'), 'x = 1\n');
    await expect(checkWritable(join(dir, 'nix.conf'), [store])).resolves.toBeUndefined();
  });

  it('accepts a link to a writable file outside the store', async () => {
    await writeFile(join(dir, 'real.conf'), '');
    await symlink(join(dir, 'real.conf'), join(dir, 'nix.conf'));
    await expect(checkWritable(join(dir, 'nix.conf'), [store])).resolves.toBeUndefined();
  });

  it('refuses a home-manager style link into the store with one clear line', async () => {
    const target = join(store, 'abc-home-manager-files/nix.conf');
    await mkdir(join(store, 'abc-home-manager-files'));
    await writeFile(target, 'substituters = x\n', { mode: 0o444 });
    await symlink(target, join(dir, 'nix.conf'));
    const error = await checkWritable(join(dir, 'nix.conf'), [store]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CachixError);
    expect((error as CachixError).message).toBe(`${join(dir, 'nix.conf')} is a link into the Nix store (${target}), managed by home-manager or NixOS, and cannot be edited`);
    // Still a link, target untouched.
    expect((await lstat(join(dir, 'nix.conf'))).isSymbolicLink()).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('substituters = x\n');
  });

  it('refuses a link to a read-only file elsewhere, and a dangling link', async () => {
    await writeFile(join(dir, 'ro.conf'), '', { mode: 0o444 });
    await chmod(join(dir, 'ro.conf'), 0o444);
    await symlink(join(dir, 'ro.conf'), join(dir, 'a.conf'));
    await expect(checkWritable(join(dir, 'a.conf'), [store])).rejects.toThrow(/is read-only \(via the link to .*ro\.conf\)/);
    await symlink(join(dir, 'gone.conf'), join(dir, 'b.conf'));
    await expect(checkWritable(join(dir, 'b.conf'), [store])).rejects.toThrow(/which does not exist; refusing to replace the link/);
    expect(await readlink(join(dir, 'b.conf'))).toBe(join(dir, 'gone.conf'));
  });
});
