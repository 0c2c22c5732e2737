/**
 * bench/profile — where a push spends its CPU: the client (node --cpu-prof) and the stand-in
 * (inspector, in this process), each summarised as the functions with the most self time.
 *
 *   npm run bench:profile -- tiny   (1000 tiny paths; BENCH_TINY sets the count)
 *   npm run bench:profile -- xz     (one 128 MiB path with xz -2; BENCH_XZ_MB sets the size)
 *   npm run bench:profile -- cached (one already-cached path: start-up)
 *
 * Profiles are kept in $TMPDIR/cachix-profile-*: open them in Chrome DevTools for the call tree.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey } from '../src/nix/keys.js';
import { CLI, isolatedEnv } from '../test/support/cli.js';
import { makeManyTinyPaths, makeTestClosure, uniqueSalt } from '../test/support/nix/closure.js';
import { startStandIn } from '../test/support/standin/index.js';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
}

/** Self time per function, as a share of all samples (idle included, so shares add up to wall time). */
function topFunctions(profile: CpuProfile, count: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url ? ` ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'}${where}`;
    totals.set(key, (totals.get(key) ?? 0) + 1);
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, n]) => `  ${((100 * n) / profile.samples.length).toFixed(1).padStart(5)} %  ${name}`)
    .join('\n');
}

async function main(): Promise<void> {
  const scenario = process.argv[2] ?? 'tiny';
  const key = generateSecretKey();
  const dir = await mkdtemp(join(tmpdir(), 'cachix-profile-'));
  const server = await startStandIn({ verifyNar: false, dataDir: join(dir, 'standin') });
  const env = await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key), CACHIX_RETRY_SCALE: '1' });
  let caches = 0;
  const freshCache = async (): Promise<string> => {
    const name = `profile${++caches}`;
    await server.addCache({ name, publicKey: formatPublicKeyNix(key.publicKey, `${name}.cachix.org-1`) });
    return name;
  };
  /** Pushes `input` (stdin) to `cache`; with `profileDir`, the client writes its CPU profile there. */
  const push = async (cache: string, args: string[], input: string, profileDir?: string): Promise<number> => {
    const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const start = process.hrtime.bigint();
    await new Promise((resolve) => {
      const child = spawn(process.execPath, [...flags, CLI, '--host', server.apiUrl, 'push', ...args, cache], { env, stdio: ['pipe', 'ignore', 'ignore'] });
      child.stdin.end(input);
      child.on('close', resolve);
    });
    return Number(process.hrtime.bigint() - start) / 1e6;
  };

  let args: string[] = [];
  let input: string;
  let cache = await freshCache();
  if (scenario === 'tiny') {
    await push(cache, [], (await makeManyTinyPaths(300, uniqueSalt())).join('\n')); // warm the stand-in
    cache = await freshCache();
    input = (await makeManyTinyPaths(Number(process.env.BENCH_TINY ?? 1000), uniqueSalt())).join('\n');
  } else if (scenario === 'xz') {
    args = ['-m', 'xz', '-l', '2'];
    input = (await makeTestClosure({ bigMB: Number(process.env.BENCH_XZ_MB ?? 128) })).big!;
  } else if (scenario === 'cached') {
    input = (await makeTestClosure()).paths[0]!;
    await push(cache, [], input); // the profiled push finds it cached
  } else {
    throw new Error(`unknown scenario ${scenario}: tiny, xz or cached`);
  }

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const cpu = process.cpuUsage();
  const ms = await push(cache, args, input, join(dir, 'client'));
  const used = process.cpuUsage(cpu);
  const { profile } = await session.post('Profiler.stop');
  await server.close();

  await writeFile(join(dir, 'standin.cpuprofile'), JSON.stringify(profile));
  const clientFile = join(dir, 'client', (await readdir(join(dir, 'client')))[0]!);
  const client = JSON.parse(await readFile(clientFile, 'utf8')) as CpuProfile;
  console.log(`${scenario}: ${ms.toFixed(0)} ms wall; stand-in ${((used.user + used.system) / 1000).toFixed(0)} ms CPU`);
  console.log(`client main thread (${clientFile}):\n${topFunctions(client, 25)}`);
  console.log(`stand-in (${join(dir, 'standin.cpuprofile')}):\n${topFunctions(profile as CpuProfile, 15)}`);
  await rm(join(dir, 'standin'), { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
