import type { Writable } from 'node:stream';
import type { PushEvent } from '../push/events.js';
import { describeReason, failedLine, retryLine, skippedLine, startedLine } from './messages.js';

/**
 * Lines for watch-store and watch-exec: one per path pushed, retried or failed. The per-batch
 * plan and summary lines of `push` would repeat for every few paths a build registers, so they
 * are left out; so are paths that turn out invalid (a failed build drops its lock file too),
 * unless `verbose`.
 */
export function watchRenderer(out: Writable, verbose: boolean): (event: PushEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'input-skipped':
        if (verbose) out.write(`${skippedLine(event)}\n`);
        break;
      case 'path-started':
        out.write(`${startedLine(event)}\n`);
        break;
      case 'path-retrying':
        out.write(`${retryLine(event)}\n`);
        break;
      case 'path-failed':
        out.write(`${failedLine(event.path, describeReason(event.error))}\n`);
        break;
      case 'batch-failed':
        out.write(`${failedLine(`${event.paths.length} path${event.paths.length === 1 ? '' : 's'} (${event.paths[0]}${event.paths.length > 1 ? ', …' : ''})`, describeReason(event.error))}\n`);
        break;
      default:
        break;
    }
  };
}
