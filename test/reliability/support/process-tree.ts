/**
 * Reads the live process tree from /proc, so tests can see what the CLI spawned (argv,
 * environment) and check that nothing it spawned outlives it.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  argv: string[];
  /** NAME=VALUE entries; empty when the process exited before it could be read. */
  environ: string[];
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) is in parentheses and may contain spaces; ppid follows the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
    let environ: string[] = [];
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((s) => s !== '');
    } catch {
      // A process that exits between the reads: keep what we have.
    }
    return { pid, ppid, argv, environ };
  } catch {
    return undefined;
  }
}

export function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProc(Number(name));
    if (info) out.push(info);
  }
  return out;
}

/** Every process below `root` (children, grandchildren, …) right now. */
export function descendantsOf(root: number): ProcInfo[] {
  const all = allProcesses();
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

export function isAlive(pid: number): boolean {
  const info = readProc(pid);
  if (!info) return false;
  try {
    // A zombie has exited; only its entry is left for the parent to reap.
    return !/^\S+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** VmHWM (peak resident set) of a process in KiB, or undefined once it is gone. */
export function peakRssKiB(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function openFdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/**
 * Samples the descendants of `root` every `intervalMs` until stopped; every process ever
 * seen is kept (first sighting), so short-lived children are caught too.
 */
export function watchDescendants(root: number, intervalMs = 20): { seen: Map<string, ProcInfo>; stop: () => void } {
  // Keyed by pid *and* command line: a child first caught between fork() and exec() (still a copy
  // of its parent) must also be recorded as the program it then becomes.
  const seen = new Map<string, ProcInfo>();
  const sample = (): void => {
    for (const p of descendantsOf(root)) {
      const key = `${p.pid} ${p.argv.join(' ')}`;
      if (!seen.has(key) && p.argv.length > 0) seen.set(key, p);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return { seen, stop: () => clearInterval(timer) };
}
