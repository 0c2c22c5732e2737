import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { isolatedEnv } from '../support/cli.js';
import { describeNix } from '../support/nix/available.js';
import { removeStore } from '../support/nix/substitute.js';

const DEMO = resolve(import.meta.dirname, '../../scripts/demo-local-cache.sh');

// The README's first command (scripts/quickstart.sh) is the installs plus this script: keep it working.
describeNix("the README's quick start", () => {
  it('builds a path, makes a key, pushes to a directory cache, writes a nix.conf, and Nix substitutes from it', async () => {
    const work = await mkdtemp(join(tmpdir(), 'cachix-demo-'));
    const env = await isolatedEnv();
    try {
      const { code, output } = await new Promise<{ code: number | null; output: string }>((done) => {
        const child = spawn('bash', [DEMO, work], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
        child.on('close', (c) => done({ code: c, output }));
      });
      expect(code, output.slice(-3000)).toBe(0);
      expect(output).toMatch(/Pushing 1 paths \(0 are already present\) using zstd to file:\/\/.*\/cache/);
      expect(output).toMatch(/^substituters = https:\/\/cache\.nixos\.org file:\/\/\S+\/cache$/m);
      expect(output).toMatch(/copying path '\/nix\/store\/\S+-cachix-quickstart-hello' from 'file:\/\//);
      expect(output).toMatch(/Done: \/nix\/store\/\S+-cachix-quickstart-hello came back from file:\/\/\S+\/cache, signature checked by Nix\./);
    } finally {
      await removeStore(work);
    }
  }, 120_000);
});
