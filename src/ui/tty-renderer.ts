import type { Writable } from 'node:stream';
import type { Ora } from 'ora';
import type { PushEvent } from '../push/events.js';
import { humanSize, percent, rate } from './format.js';
import { nothingToPushLine, plannedLine, retryLine, skippedLine } from './messages.js';

interface Running {
  bytes: number;
  narSize: number;
  attempt: number;
}

const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';
const BAR_WIDTH = 20;

/**
 * A live display for terminals: ora keeps one block at the bottom (a line per running
 * path with a bar and bytes, then a total line with throughput) while finished paths
 * scroll above it as `✓ path (size)` lines.
 */
export async function ttyRenderer(out: Writable & { columns?: number }): Promise<{ render: (event: PushEvent) => void; stop: () => void }> {
  const { default: ora } = await import('ora');
  const spinner: Ora = ora({ stream: out as NodeJS.WriteStream, discardStdin: false, hideCursor: true });
  const running = new Map<string, Running>();
  let destination = '';
  let total = 0;
  let finishedPaths = 0;
  let bytesDone = 0;
  let started = Date.now();
  let lastDraw = 0;

  const print = (line: string): void => {
    const wasSpinning = spinner.isSpinning;
    if (wasSpinning) spinner.clear();
    out.write(`${line}\n`);
    if (wasSpinning) spinner.render();
  };
  const draw = (force = false): void => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const width = Math.max(40, (out.columns ?? 80) - 4);
    const lines = [...running].map(([path, r]) => {
      const filled = r.narSize === 0 ? BAR_WIDTH : Math.min(BAR_WIDTH, Math.floor((r.bytes / r.narSize) * BAR_WIDTH));
      const retry = r.attempt > 0 ? `${YELLOW}retry #${r.attempt}${RESET} ` : '';
      const text = `[${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${retry}${path} (${percent(r.bytes, r.narSize)} of ${humanSize(r.narSize)})`;
      return text.length > width + 12 ? `${text.slice(0, width + 9)}...` : text;
    });
    const inFlight = [...running.values()].reduce((sum, r) => sum + r.bytes, 0);
    const seconds = (now - started) / 1000;
    lines.push(`${finishedPaths}/${total} paths, ${humanSize(bytesDone + inFlight)} read, ${rate(bytesDone + inFlight, seconds)}`);
    spinner.text = lines.join('\n');
  };

  const render = (event: PushEvent): void => {
    switch (event.type) {
      case 'input-skipped':
        print(`${YELLOW}${skippedLine(event)}${RESET}`);
        break;
      case 'planned':
        destination = event.destination;
        total = event.missing.length;
        started = Date.now();
        if (total > 0) {
          print(`${plannedLine(event)}\n`);
          draw(true);
          spinner.start();
        }
        break;
      case 'path-started':
        running.set(event.path, { bytes: 0, narSize: event.narSize, attempt: event.attempt });
        draw(true);
        break;
      case 'path-progress': {
        const r = running.get(event.path);
        if (r) r.bytes = event.bytes;
        draw();
        break;
      }
      case 'path-retrying':
        running.delete(event.path);
        print(`${YELLOW}${retryLine(event)}${RESET}`);
        draw(true);
        break;
      case 'path-done':
        running.delete(event.path);
        finishedPaths++;
        bytesDone += event.narSize;
        print(`${GREEN}✓${RESET} ${event.path} (${humanSize(event.narSize)})`);
        draw(true);
        break;
      case 'path-failed':
        running.delete(event.path);
        draw(true);
        break;
      case 'finished':
        spinner.stop();
        out.write(event.pushed === 0 ? `${nothingToPushLine(destination)}\n` : `\nAll done. ${humanSize(bytesDone)} in ${event.seconds.toFixed(1)} s (${rate(bytesDone, event.seconds)})\n`);
        break;
    }
  };
  return { render, stop: () => spinner.stop() };
}
