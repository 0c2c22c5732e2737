import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachixError } from '../../../src/errors.js';
import { checkNixVersion, detectEnvironment, isSupportedNix, parseNixVersion } from '../../../src/use/detect.js';
import type { CommandResult, UseSystem } from '../../../src/use/system.js';

describe('Nix version', () => {
  it.each([
    ['nix-env (Nix) 2.8.0', [2, 8, 0], true],
    ['nix-env (Nix) 2.0.1\n', [2, 0, 1], true],
    ['nix-env (Nix) 2.0', [2, 0, 0], false],
    ['nix-env (Nix) 1.11.16', [1, 11, 16], false],
    ['nix-env (Nix) 2.4pre20201205_a5d85d0', [2, 4, 0], true],
    ['nix-env (Lix, like Nix) 2.91.1', [2, 91, 1], true],
  ])('%j -> %j (supported: %s)', (output, version, supported) => {
    expect(parseNixVersion(output)).toEqual(version);
    expect(isSupportedNix(version)).toBe(supported);
  });

  it('finds no version in garbage', () => {
    expect(parseNixVersion('nix-env (Nix) unknown')).toBeUndefined();
  });

  const system = (result: CommandResult | Error): UseSystem => ({
    rootDir: '/nonexistent',
    run: async () => {
      if (result instanceof Error) throw result;
      return result;
    },
  });

  it('accepts 2.8.0 and rejects 1.11 and unparsable output with one clear line', async () => {
    await expect(checkNixVersion(system({ code: 0, stdout: 'nix-env (Nix) 2.8.0\n', stderr: '' }))).resolves.toBeUndefined();
    await expect(checkNixVersion(system({ code: 0, stdout: 'nix-env (Nix) 1.11.16\n', stderr: '' }))).rejects.toThrow(
      'Nix 1.11.16 is too old: binary caches need Nix 2.0.1 or newer',
    );
    await expect(checkNixVersion(system({ code: 0, stdout: 'who knows\n', stderr: '' }))).rejects.toThrow(/cannot find a version number/);
    await expect(checkNixVersion(system({ code: 1, stdout: '', stderr: 'boom\n' }))).rejects.toThrow(/failed \(exit 1\): boom/);
    await expect(checkNixVersion(system(Object.assign(new Error('spawn nix-env ENOENT'), { code: 'ENOENT' })))).rejects.toThrow(
      /is Nix installed/,
    );
  });
});

describe('detectEnvironment', () => {
  let root: string;
  let commands: string[][];
  let groups: string;

  const system = (): UseSystem => ({
    rootDir: root,
    run: async (command, args) => {
      commands.push([command, ...args]);
      return { code: 0, stdout: groups, stderr: '' };
    },
  });

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cachix-detect-'));
    commands = [];
    groups = 'users\n';
    await mkdir(join(root, 'nix/store'), { recursive: true });
    await mkdir(join(root, 'etc/nix'), { recursive: true });
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const readOnlyStore = () => rm(join(root, 'nix/store'), { recursive: true });

  it('requires $USER or an account name', async () => {
    const error = await detectEnvironment(system(), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CachixError);
    expect((error as CachixError).message).toContain('$USER is not set');
  });

  it('falls back to the account name when $USER is unset, and prefers $USER when set', async () => {
    const withAccount = (): UseSystem => ({ ...system(), accountName: () => 'root' });
    expect((await detectEnvironment(withAccount(), {})).isRoot).toBe(true);
    expect((await detectEnvironment(withAccount(), { USER: 'alice' })).user).toBe('alice');
  });

  it('treats a writable store as trusted (single-user install) and root as root', async () => {
    expect(await detectEnvironment(system(), { USER: 'root' })).toEqual({ user: 'root', isRoot: true, isTrusted: true, isNixOS: false });
    expect((await detectEnvironment(system(), { USER: 'alice' })).isTrusted).toBe(true);
  });

  it('reads trusted-users from nix.conf and its includes', async () => {
    await readOnlyStore();
    await writeFile(join(root, 'etc/nix/nix.conf'), 'include trust.conf\n');
    await writeFile(join(root, 'etc/nix/trust.conf'), 'trusted-users = root alice\n');
    expect((await detectEnvironment(system(), { USER: 'alice' })).isTrusted).toBe(true);
    expect((await detectEnvironment(system(), { USER: 'bob' })).isTrusted).toBe(false);
    // Nix's default trusted-users is root.
    await writeFile(join(root, 'etc/nix/trust.conf'), '');
    expect((await detectEnvironment(system(), { USER: 'root' })).isTrusted).toBe(true);
    expect(commands).toEqual([]);
  });

  it('matches @groups by whole name with id -Gn', async () => {
    await readOnlyStore();
    await writeFile(join(root, 'etc/nix/nix.conf'), 'trusted-users = root @wheel\n');
    groups = 'users wheel2\n';
    expect((await detectEnvironment(system(), { USER: 'bob' })).isTrusted).toBe(false);
    groups = 'users wheel\n';
    expect((await detectEnvironment(system(), { USER: 'bob' })).isTrusted).toBe(true);
    expect(commands).toEqual([
      ['id', '-Gn', 'bob'],
      ['id', '-Gn', 'bob'],
    ]);
  });

  it('trusts everyone for trusted-users = *', async () => {
    await readOnlyStore();
    await writeFile(join(root, 'etc/nix/nix.conf'), 'trusted-users = *\n');
    expect((await detectEnvironment(system(), { USER: 'zed' })).isTrusted).toBe(true);
  });

  it('detects NixOS by /run/current-system/nixos-version', async () => {
    await mkdir(join(root, 'run/current-system'), { recursive: true });
    await writeFile(join(root, 'run/current-system/nixos-version'), '24.05');
    expect((await detectEnvironment(system(), { USER: 'root' })).isNixOS).toBe(true);
  });

  it('does not trust a store that is not writable', async () => {
    if (process.getuid?.() === 0) {
      // Root can write anywhere; a missing store dir stands in for an unwritable one.
      await readOnlyStore();
    } else {
      await chmod(join(root, 'nix/store'), 0o555);
    }
    expect((await detectEnvironment(system(), { USER: 'bob' })).isTrusted).toBe(false);
  });
});
