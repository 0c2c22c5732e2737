import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfigFile, writeConfigFile } from '../../../src/config/file.js';
import type { CachixConfig } from '../../../src/config/types.js';
import { CachixError } from '../../../src/errors.js';
import { tempDir } from './fake-context.js';

const exec = promisify(execFile);

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const CONFIG: CachixConfig = {
  authToken: 'tok"${x}\\',
  hostname: 'http://127.0.0.1:1',
  binaryCaches: [{ name: 'c', secretKey: Buffer.alloc(64, 5).toString('base64') }],
};

/**
 * Makes `path` refuse new entries even for root (who ignores directory permissions):
 * the immutable attribute when we are root, a read-only mode otherwise.
 */
async function makeReadOnly(path: string): Promise<() => Promise<void>> {
  if (process.getuid?.() === 0) {
    await exec('chattr', ['+i', path]);
    return async () => void (await exec('chattr', ['-i', path]));
  }
  await chmod(path, 0o500);
  return () => chmod(path, 0o700);
}

describe('config file I/O', () => {
  it('writes mode 0600 (also over an existing 0644 file), creating parents, and reads back', async () => {
    const path = join(dir, 'a', 'b', 'cachix.dhall');
    expect(await writeConfigFile(path, CONFIG)).toBe(`Written to ${path}`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readConfigFile(path)).toEqual(CONFIG);

    await chmod(path, 0o644);
    await writeConfigFile(path, { ...CONFIG, authToken: 'new' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readConfigFile(path)).authToken).toBe('new');
    expect((await readdir(join(dir, 'a', 'b'))).sort()).toEqual(['cachix.dhall']); // no temp files left
  });

  it('a missing file gives the defaults; a malformed one is a single positioned line', async () => {
    expect(await readConfigFile(join(dir, 'none.dhall'))).toEqual({ authToken: '', hostname: 'https://cachix.org', binaryCaches: [] });
    const path = join(dir, 'bad.dhall');
    await writeFile(path, '{ authToken = "t"\n, hostname "x"\n}\n');
    await expect(readConfigFile(path)).rejects.toThrow(new CachixError(`cannot parse config file ${path} at 2:12: expected "=" after field name "hostname"`));
  });

  it('leaves the old file byte-identical when the write fails (read-only directory)', async () => {
    const configDir = join(dir, 'ro');
    await mkdir(configDir);
    const path = join(configDir, 'cachix.dhall');
    const original = '-- my hand-written config\n{ authToken = "old" }\n';
    await writeFile(path, original);
    const restore = await makeReadOnly(configDir);
    try {
      await expect(writeConfigFile(path, CONFIG)).rejects.toThrow(new RegExp(`^cannot write config file ${path}: E`));
    } finally {
      await restore();
    }
    expect(await readFile(path, 'utf8')).toBe(original);
    expect(await readdir(configDir)).toEqual(['cachix.dhall']);
  });
});
