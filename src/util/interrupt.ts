import { CachixError } from '../errors.js';
import { stopOnSignals } from './stop-signals.js';

/**
 * Turns SIGINT/SIGTERM into an abort of `controller` with the conventional exit code
 * (130 / 143), so in-flight uploads are aborted and child processes stopped before
 * exiting. A second signal exits at once.
 */
export function abortOnSignals(controller: AbortController): () => void {
  // stopOnSignals with "stop" meaning "abort now": its next signal then finds the controller
  // aborted and exits at once.
  return stopOnSignals(controller, (signal, exitCode) => {
    controller.abort(new CachixError(`interrupted by ${signal}; in-flight uploads were aborted`, { exitCode }));
  });
}
