import { CachixError } from '../errors.js';

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof EXIT_CODES;

/**
 * Two-step stop for long-running commands (watch-store, watch-exec): the first SIGINT/SIGTERM
 * calls `onStop` (stop taking new work, finish what is queued, as the real client does on
 * shutdown); the second aborts `controller` with the conventional exit code, cancelling
 * uploads in flight; a third exits at once.
 */
export function stopOnSignals(controller: AbortController, onStop: (signal: StopSignal, exitCode: number) => void): () => void {
  let stopping = false;
  const handlers: [StopSignal, () => void][] = [];
  for (const signal of Object.keys(EXIT_CODES) as StopSignal[]) {
    const handler = (): void => {
      if (controller.signal.aborted) process.exit(EXIT_CODES[signal]);
      if (stopping) {
        controller.abort(new CachixError(`interrupted by a second ${signal}; in-flight uploads were aborted`, { exitCode: EXIT_CODES[signal] }));
        return;
      }
      stopping = true;
      onStop(signal, EXIT_CODES[signal]);
    };
    process.on(signal, handler);
    handlers.push([signal, handler]);
  }
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
