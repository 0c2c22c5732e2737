import { CachixError } from '../errors.js';

/**
 * Turns SIGINT/SIGTERM into an abort of `controller` with the conventional exit code
 * (130 / 143), so in-flight uploads are aborted and child processes stopped before
 * exiting. A second signal exits at once.
 */
export function abortOnSignals(controller: AbortController): () => void {
  const handlers: [NodeJS.Signals, () => void][] = [];
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const handler = (): void => {
      if (controller.signal.aborted) process.exit(code);
      controller.abort(new CachixError(`interrupted by ${signal}; in-flight uploads were aborted`, { exitCode: code }));
    };
    process.on(signal, handler);
    handlers.push([signal, handler]);
  }
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
