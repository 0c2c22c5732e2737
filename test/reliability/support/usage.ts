/** Runs the CLI while sampling its peak resident memory and open file descriptors. */
import { runCli, type CliResult } from '../../support/cli.js';
import { openFdCount, peakRssKiB } from './process-tree.js';

/** Peak RSS (VmHWM) and the most open file descriptors seen while the CLI ran. */
export interface Usage {
  peakRssMiB: number;
  maxFds: number;
}

export async function pushMeasured(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ result: CliResult; usage: Usage }> {
  const usage: Usage = { peakRssMiB: 0, maxFds: 0 };
  let timer: NodeJS.Timeout | undefined;
  const result = await runCli(args, {
    env,
    ...(input === undefined ? {} : { input }),
    onSpawn: (child) => {
      const sample = (): void => {
        const rss = peakRssKiB(child.pid!);
        const fds = openFdCount(child.pid!);
        if (rss !== undefined) usage.peakRssMiB = Math.max(usage.peakRssMiB, rss / 1024);
        if (fds !== undefined) usage.maxFds = Math.max(usage.maxFds, fds);
      };
      timer = setInterval(sample, 50);
    },
  });
  clearInterval(timer);
  return { result, usage };
}

