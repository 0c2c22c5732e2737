import { CachixError } from '../errors.js';

/** An API call that failed for good (after retries). */
export class ApiError extends CachixError {
  readonly status: number | undefined;
  readonly body: string | undefined;

  constructor(message: string, status: number | undefined, body: string | undefined, cause?: unknown) {
    super(message, { cause });
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}
