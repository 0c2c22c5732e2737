import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeBuildHook } from '../../../src/watch/build-hook.js';

const cachix = { node: '/usr/bin/node', script: "/opt/it's here/bin/cachix" };

describe('watch-exec build hook', () => {
  it('writes an executable hook that hands the outputs to the daemon socket, and a nix.conf setting it first in NIX_USER_CONF_FILES', async () => {
    const hook = await writeBuildHook({ HOME: '/home/u', XDG_CONFIG_DIRS: '/etc/xdg:/opt/xdg' }, cachix);
    try {
      const dir = dirname(hook.socketPath);
      expect(dirname(dir)).toBe(tmpdir());
      const script = await readFile(join(dir, 'post-build-hook.sh'), 'utf8');
      expect(script).toContain(`exec '/usr/bin/node' '/opt/it'\\''s here/bin/cachix' daemon push --socket '${hook.socketPath}' $paths </dev/null`);
      expect(script).toContain('paths=${OUT_PATHS:-$(nix-store --query --outputs "$DRV_PATH")}');
      expect((await stat(join(dir, 'post-build-hook.sh'))).mode & 0o111).toBe(0o111);
      expect(await readFile(join(dir, 'nix.conf'), 'utf8')).toBe(`post-build-hook = ${join(dir, 'post-build-hook.sh')}\n`);
      expect(hook.env.NIX_USER_CONF_FILES).toBe(`${join(dir, 'nix.conf')}:/home/u/.config/nix/nix.conf:/etc/xdg/nix/nix.conf:/opt/xdg/nix/nix.conf`);
      expect(hook.env.HOME).toBe('/home/u'); // the rest of the environment is kept
    } finally {
      await hook.remove();
    }
  });

  it('keeps an existing NIX_USER_CONF_FILES after its own file, and appends to NIX_CONF when that is set', async () => {
    const a = await writeBuildHook({ NIX_USER_CONF_FILES: '/a.conf:/b.conf' }, cachix);
    const b = await writeBuildHook({ NIX_CONF: 'substituters = x' }, cachix);
    try {
      expect(a.env.NIX_USER_CONF_FILES).toBe(`${join(dirname(a.socketPath), 'nix.conf')}:/a.conf:/b.conf`);
      expect(b.env.NIX_CONF).toBe(`substituters = x\npost-build-hook = ${join(dirname(b.socketPath), 'post-build-hook.sh')}\n`);
      expect(b.env.NIX_USER_CONF_FILES).toBeUndefined();
    } finally {
      await a.remove();
      await b.remove();
    }
  });

  it('uses RUNNER_TEMP only while the socket path fits a Unix socket', async () => {
    const runnerTemp = await mkdtemp(join(tmpdir(), 'rt-'));
    const short = await writeBuildHook({ RUNNER_TEMP: runnerTemp }, cachix);
    await short.remove();
    expect(dirname(dirname(short.socketPath))).toBe(runnerTemp);
    await rm(runnerTemp, { recursive: true });
    const long = await writeBuildHook({ RUNNER_TEMP: `/${'x'.repeat(100)}` }, cachix); // would not fit (and does not exist)
    try {
      expect(dirname(dirname(long.socketPath))).toBe(tmpdir());
    } finally {
      await long.remove();
    }
  });
});
