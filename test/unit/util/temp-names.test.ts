import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ownedTempDir, removeStaleTemps, tempName } from '../../../src/util/temp-names.js';

it('names temps after this host and pid, and sweeps only those whose process is gone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'temp-names-'));
  const host = hostname().replace(/[^A-Za-z0-9-]/g, '_');
  const deadPid = spawnSync('true').pid!; // exited and reaped: nobody runs under this pid now
  const mine = tempName('abc.narinfo');
  expect(mine).toMatch(new RegExp(`^\\.abc\\.narinfo\\.${host}\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`));
  const files = {
    mine,
    dead: `.abc.narinfo.${host}.${deadPid}.0123456789ab.tmp`,
    otherHost: `.abc.narinfo.elsewhere.${deadPid}.0123456789ab.tmp`,
    notATemp: 'abc.narinfo',
  };
  for (const name of Object.values(files)) await writeFile(join(dir, name), 'x');
  await removeStaleTemps(dir);
  expect((await readdir(dir)).sort()).toEqual([files.mine, files.otherHost, files.notATemp].sort());
});

it('makes a scratch dir named after this pid, removing those of gone processes (and only those)', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'owned-'));
  const deadPid = spawnSync('true').pid!;
  const dead = `cachix-parts-${deadPid}-AbC123`;
  const live = `cachix-parts-${process.ppid}-XyZ789`; // our parent runs
  const otherPrefix = `cachix-batch-${deadPid}-AbC123`;
  const notOurs = `cachix-parts-${deadPid}-toolongname`;
  for (const name of [dead, live, otherPrefix, notOurs]) {
    await mkdir(join(parent, name));
    await writeFile(join(parent, name, 'part-1'), 'x');
  }
  const made = await ownedTempDir(parent, 'cachix-parts-');
  expect(made).toMatch(new RegExp(`/cachix-parts-${process.pid}-[A-Za-z0-9]{6}$`));
  expect((await readdir(parent)).sort()).toEqual([live, otherPrefix, notOurs, made.split('/').pop()!].sort());
});
