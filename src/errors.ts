/**
 * The one user-facing error type. Anything thrown that is not a CachixError is a bug:
 * the CLI prints it as one line and shows its stack only with --verbose / CACHIX_DEBUG=1.
 */
export class CachixError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CachixError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

export function isCachixError(error: unknown): error is CachixError {
  return error instanceof CachixError;
}

/** The message of any thrown value, without a stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
