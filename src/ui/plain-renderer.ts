import type { Writable } from 'node:stream';
import type { PushEvent } from '../push/events.js';
import { nothingToPushLine, plannedLine, retryLine, skippedLine, startedLine } from './messages.js';

/** One line per event, for CI logs and pipes (spec §6.9, no TTY or CI=true). */
export function plainRenderer(out: Writable): (event: PushEvent) => void {
  let destination = '';
  return (event) => {
    switch (event.type) {
      case 'input-skipped':
        out.write(`${skippedLine(event)}\n`);
        break;
      case 'planned':
        destination = event.destination;
        if (event.missing.length > 0) out.write(`${plannedLine(event)}\n\n`);
        break;
      case 'path-started':
        out.write(`${startedLine(event)}\n`);
        break;
      case 'path-retrying':
        out.write(`${retryLine(event)}\n`);
        break;
      case 'finished':
        out.write(event.pushed === 0 ? `${nothingToPushLine(destination)}\n` : '\nAll done.\n');
        break;
      default:
        break;
    }
  };
}
