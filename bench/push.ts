/**
 * bench/push — push throughput, small-path rate, cached-closure latency, memory and start-up,
 * each beside the machine's own limit for the same work, measured in one run.
 *
 *   npm run bench:push                 (env: BENCH_LARGE_MB=1024 BENCH_XZ_MB=128 BENCH_TINY=1000
 *                                            BENCH_CACHED=10000 BENCH_HUGE_MB=2048; 0 skips a part)
 *
 * Not a test: it prints figures. The stand-in runs in this process with NAR re-verification off,
 * so the server's CPU does not count against the client; everything shares the machine's cores.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey } from '../src/nix/keys.js';
import { CLI, isolatedEnv } from '../test/support/cli.js';
import { makeManyTinyPaths, makeTestClosure, uniqueSalt } from '../test/support/nix/closure.js';
import { startStandIn } from '../test/support/standin/index.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const LARGE_MB = env('BENCH_LARGE_MB', 1024);
const XZ_MB = env('BENCH_XZ_MB', 128);
const TINY = env('BENCH_TINY', 1000);
const CACHED = env('BENCH_CACHED', 10000);
const HUGE_MB = env('BENCH_HUGE_MB', 2048);
const MiB = 1024 * 1024;

interface Timed {
  seconds: number;
  /** user + system CPU seconds of the command and its children. */
  cpu: number;
  maxRssKiB: number;
  code: number;
  stderr: string;
}

/** Runs a command under GNU time for wall time and peak RSS (of the largest process). */
function timed(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%M %U %S', command, ...args], { env: options.env ?? process.env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const lines = stderr.trimEnd().split('\n');
      const [rss, user, sys] = (lines.pop() ?? '0 0 0').split(' ').map(Number);
      resolve({ seconds, cpu: user! + sys!, maxRssKiB: rss!, code: code ?? 1, stderr: lines.join('\n') });
    });
    child.stdin.end(options.input ?? '');
  });
}

function sh(script: string): Promise<Timed> {
  return timed('sh', ['-c', script]);
}

async function narBytes(paths: string[]): Promise<number> {
  const r = await new Promise<string>((resolve) => {
    const c = spawn('nix', ['--extra-experimental-features', 'nix-command', 'path-info', '--json', ...paths]);
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', () => resolve(out));
  });
  return (JSON.parse(r) as { narSize: number }[]).reduce((sum, p) => sum + p.narSize, 0);
}

/** Runs `a` and `b` alternately `rounds` times; returns each one's fastest run (load swings hit both alike). */
async function interleaved<A extends Timed, B extends Timed>(rounds: number, a: () => Promise<A>, b: () => Promise<B>): Promise<[A, B]> {
  const [bestA, bestB] = await interleavedAll(rounds, [a, b]);
  return [bestA as A, bestB as B];
}

/** Like interleaved() for any number of commands: round-robin `rounds` times, each one's fastest run. */
async function interleavedAll(rounds: number, commands: (() => Promise<Timed>)[]): Promise<Timed[]> {
  const best: Timed[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const [j, command] of commands.entries()) {
      const r = await command();
      if (!best[j] || r.seconds < best[j]!.seconds) best[j] = r;
    }
  }
  return best;
}

/** CPU seconds per byte of SHA-256 and MD5 on this machine (node:crypto, one core). */
function hashCosts(): { sha256: number; md5: number } {
  const data = Buffer.alloc(64 * MiB, 7);
  const cost = (algorithm: string) => {
    const t = process.hrtime.bigint();
    createHash(algorithm).update(data).digest();
    return Number(process.hrtime.bigint() - t) / 1e9 / data.length;
  };
  cost('sha256');
  return { sha256: cost('sha256'), md5: cost('md5') };
}

const CORES = availableParallelism();
/** The best any client can do: the pipe's work plus what it must hash, plus the server's CPU, spread over all cores. */
function ceiling(pipe: Timed, extraCpu: number): number {
  return pipe.seconds / Math.max(pipe.seconds, (pipe.cpu + extraCpu) / CORES);
}

const rows: string[][] = [];
function row(what: string, value: string, comparison = '', ratio = ''): void {
  rows.push([what, value, comparison, ratio]);
  console.error(`  ${what}: ${value}${comparison ? `  | ${comparison}` : ''}${ratio ? `  | ${ratio}` : ''}`);
}
const mibs = (bytes: number, s: number) => `${(bytes / MiB / s).toFixed(1)} MiB/s`;
const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

async function main(): Promise<void> {
  const key = generateSecretKey();
  // The stand-in keeps its data in RAM when it can (as a fast object store would): creating a file on
  // this machine's ext4 disk costs ~0.7 ms, which would bill the server's disk to the client.
  const dataDir = existsSync('/dev/shm') ? await mkdtemp('/dev/shm/cachix-bench-') : undefined;
  const server = await startStandIn({ verifyNar: false, ...(dataDir ? { dataDir } : {}) });
  let cacheNo = 0;
  const freshCache = async () => {
    const name = `bench${++cacheNo}`;
    await server.addCache({ name, publicKey: formatPublicKeyNix(key.publicKey, `${name}.cachix.org-1`) });
    return name;
  };
  const cliEnv = await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key), CACHIX_RETRY_SCALE: '1' });
  const push = async (args: string[], input?: string) => {
    const cache = await freshCache();
    const before = process.cpuUsage();
    const r = await timed(process.execPath, [CLI, '--host', server.apiUrl, 'push', cache, ...args], { env: cliEnv, ...(input ? { input } : {}) });
    const used = process.cpuUsage(before);
    if (r.code !== 0) throw new Error(`push failed: ${r.stderr.split('\n').slice(-3).join(' / ')}`);
    // The stand-in runs in this process: its CPU shares the cores with the client.
    return { ...r, cache, serverCpu: (used.user + used.system) / 1e6 };
  };
  const pushAgain = async (cache: string, args: string[], input?: string) =>
    timed(process.execPath, [CLI, '--host', server.apiUrl, 'push', cache, ...args], { env: cliEnv, ...(input ? { input } : {}) });

  try {
    console.error(`cachix-ts bench/push on ${(await sh('nproc')).seconds >= 0 ? 'this machine' : ''} (${new Date().toISOString()})`);
    const startup = await timed(process.execPath, [CLI, '--version']);
    row('start-up: cachix --version', `${(startup.seconds * 1000).toFixed(0)} ms`, 'target < 150 ms');
    const one = (await makeTestClosure()).paths[0]!;
    const first = await push([one]);
    const cachedOne = await interleaved(3, () => pushAgain(first.cache, [one]), () => pushAgain(first.cache, [one]));
    row('start-up: push of an already-cached path (stand-in)', `${(Math.min(cachedOne[0].seconds, cachedOne[1].seconds) * 1000).toFixed(0)} ms`, 'target < 150 ms');

    if (LARGE_MB > 0) {
      // A closure of about LARGE_MB: three large paths plus many small ones.
      console.error('building the large closure…');
      const large = [];
      for (let i = 0; i < 3; i++) large.push((await makeTestClosure({ bigMB: Math.round(LARGE_MB / 3) })).big!);
      const small = (await makeTestClosure()).paths;
      const tiny = await makeManyTinyPaths(200, uniqueSalt());
      const paths = [...large, ...small, ...tiny];
      const bytes = await narBytes(paths);
      const list = join(await mkdtemp(join(tmpdir(), 'bench-')), 'paths');
      await writeFile(list, paths.join('\n'));
      console.error(`closure: ${paths.length} paths, ${(bytes / MiB).toFixed(0)} MiB of NAR`);

      let serverCpu = 0;
      let fileBytes = 0;
      const [base, ours] = await interleaved(
        2,
        () => sh(`for p in $(cat ${list}); do nix-store --dump "$p" | zstd -2 -T0 -q > /dev/null; done`),
        async () => {
          const r = await push(['-m', 'zstd'], paths.join('\n'));
          serverCpu = r.serverCpu;
          fileBytes = server.listNarinfos(r.cache).reduce((sum, h) => sum + (server.narinfo(r.cache, h)!.fileSize ?? 0), 0);
          return r;
        },
      );
      const costs = hashCosts();
      const hashCpu = bytes * costs.sha256 + fileBytes * (costs.sha256 + costs.md5);
      row(`zstd push, ${paths.length} paths / ${(bytes / MiB).toFixed(0)} MiB`, `${ours.seconds.toFixed(2)} s, ${mibs(bytes, ours.seconds)}`,
        `nix-store --dump | zstd -2 -T0: ${base.seconds.toFixed(2)} s, ${mibs(bytes, base.seconds)}`, `${x(base.seconds, ours.seconds)} of the pipe's rate (target >= 0.8)`);
      row('  … ceiling on this machine', `pipe ${base.cpu.toFixed(1)} CPU-s + hashing ${hashCpu.toFixed(1)} + stand-in ${serverCpu.toFixed(1)} on ${CORES} cores`,
        `without the stand-in: ${ceiling(base, hashCpu).toFixed(2)}x`, `with it: ${ceiling(base, hashCpu + serverCpu).toFixed(2)}x (ours: client ${ours.cpu.toFixed(1)} CPU-s)`);

    }

    // xz on a slice: xz is ~10 MiB/s per two cores, so the whole closure would take minutes.
    if (XZ_MB > 0) {
      const xzPath = (await makeTestClosure({ bigMB: XZ_MB })).big!;
      const xzBytes = await narBytes([xzPath]);
      const nixCopyOnce = async () => {
        const dir = await mkdtemp(join(tmpdir(), 'bench-nixcopy-'));
        const r = await timed('nix', ['--extra-experimental-features', 'nix-command', 'copy', '--to', `file://${dir}?compression=xz&compression-level=2`, xzPath]);
        await rm(dir, { recursive: true, force: true });
        return r;
      };
      // xz keeps both cores busy, so every swing of this shared machine shows: three rounds of
      // the three commands, interleaved, and each one's best.
      const [nixCopy, xzBase, xzOurs] = await interleavedAll(3, [
        nixCopyOnce,
        () => sh(`nix-store --dump ${xzPath} | xz -2 -T0 -q > /dev/null`),
        () => push(['-m', 'xz', '-l', '2', xzPath]),
      ]);
      row(`xz -2 push, 1 path / ${(xzBytes / MiB).toFixed(0)} MiB`, `${xzOurs!.seconds.toFixed(2)} s, ${mibs(xzBytes, xzOurs!.seconds)}`,
        `nix copy --to file://?compression=xz: ${nixCopy!.seconds.toFixed(2)} s`, `${x(nixCopy!.seconds, xzOurs!.seconds)} faster than nix copy (target >= 1.8)`);
      row('  … vs the xz pipe', `${xzOurs!.seconds.toFixed(2)} s (client ${xzOurs!.cpu.toFixed(1)} CPU-s, stand-in ${(xzOurs as Awaited<ReturnType<typeof push>>).serverCpu.toFixed(1)})`,
        `nix-store --dump | xz -2 -T0: ${xzBase!.seconds.toFixed(2)} s (${xzBase!.cpu.toFixed(1)} CPU-s)`, `${x(xzBase!.seconds, xzOurs!.seconds)} of the pipe's rate (target >= 0.85)`);
      // No client beats the bare pipe (no hashing, no upload): it bounds the ratio to nix copy.
      row('  … ceiling vs nix copy', `the bare pipe: ${x(nixCopy!.seconds, xzBase!.seconds)} faster than nix copy`,
        `pipe ${xzBase!.cpu.toFixed(1)} CPU-s on ${CORES} cores, nix copy ${nixCopy!.cpu.toFixed(1)} CPU-s on one`, 'the most any client reaches in this run');
    }

    if (TINY > 0) {
      // Warm the stand-in's JIT with other tiny paths first: this row measures the client, and a
      // cold server spends up to three times the CPU per request.
      await push([], (await makeManyTinyPaths(Math.max(300, TINY / 2), uniqueSalt())).join('\n'));
      const tiny = await makeManyTinyPaths(TINY, uniqueSalt());
      // Best of two pushes of the same paths, each to a fresh cache.
      const [a, b] = await interleaved(1, () => push([], tiny.join('\n')), () => push([], tiny.join('\n')));
      const r = a.seconds <= b.seconds ? a : b;
      const perPath = (r.cpu + r.serverCpu) / TINY;
      row(`small paths: ${TINY} tiny paths`, `${r.seconds.toFixed(2)} s, ${(TINY / r.seconds).toFixed(0)} paths/s`, 'target >= 500 paths/s; real-world anchor ~45',
        `CPU per path: client ${((r.cpu / TINY) * 1000).toFixed(2)} ms + stand-in ${((r.serverCpu / TINY) * 1000).toFixed(2)} ms -> ceiling ${(CORES / perPath).toFixed(0)} paths/s on ${CORES} cores`);
    }

    if (CACHED > 0) {
      const paths = await makeManyTinyPaths(CACHED, uniqueSalt());
      const first = await push(['-j', '16'], paths.join('\n'));
      const before = server.log.length;
      const again = await pushAgain(first.cache, [], paths.join('\n'));
      row(`already cached: ${CACHED} paths`, `${again.seconds.toFixed(2)} s, ${server.log.length - before} API requests`, 'target < 2 s');
    }

    if (HUGE_MB > 0) {
      const hugePath = (await makeTestClosure({ bigMB: HUGE_MB })).big!;
      const hugeBytes = await narBytes([hugePath]);
      for (const args of [[], ['-s', '5M'], ['-s', '128M'], ['-n', '8']]) {
        const r = await push([...args, hugePath]);
        row(`peak RSS, 1 NAR of ${(hugeBytes / MiB).toFixed(0)} MiB${args.length ? ` (${args.join(' ')})` : ' (defaults)'}`,
          `${(r.maxRssKiB / 1024).toFixed(0)} MiB`, `${mibs(hugeBytes, r.seconds)}`, args.length ? '' : 'target <= 150 MiB');
      }
    }
  } finally {
    await server.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  console.log('\n| measurement | cachix-ts | machine limit / comparison | ratio |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
