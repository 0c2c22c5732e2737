import { describeError } from '../errors.js';
import { redact } from '../util/redact.js';
import type { PushEvent } from '../push/events.js';
import { humanSize } from './format.js';

/** The texts of spec §6.4 and §6.9, shared by every renderer. */
export function skippedLine(event: Extract<PushEvent, { type: 'input-skipped' }>): string {
  return event.reason === 'is not valid' ? `Warning: ${event.input} is not valid, skipping` : `Warning: ${event.input}: ${event.reason}, skipping`;
}

export function plannedLine(event: Extract<PushEvent, { type: 'planned' }>): string {
  const present = event.closureSize - event.missing.length;
  return `Pushing ${event.missing.length} paths (${present} are already present) using ${event.compression} to ${event.destination} ⏳`;
}

export function startedLine(event: Extract<PushEvent, { type: 'path-started' }>): string {
  return `${event.attempt > 0 ? `retry #${event.attempt} ` : ''}Pushing ${event.path} (${humanSize(event.narSize)})`;
}

/** `reason` is shown as given: callers redact what an error could carry (describeReason). */
export function failedLine(what: string, reason: string): string {
  return `Failed to push ${what}: ${reason}`;
}

/** An error as a one-line reason, with any secret it echoes removed. */
export function describeReason(error: unknown): string {
  return redact(describeError(error));
}

export function retryLine(event: Extract<PushEvent, { type: 'path-retrying' }>): string {
  return `${failedLine(event.path, describeReason(event.error))}; retrying in ${Math.round(event.delayMs / 1000)} s`;
}

export function nothingToPushLine(destination: string): string {
  return destination.startsWith('cache ') ? 'Nothing to push - all store paths are already on Cachix.' : `Nothing to push - all store paths are already in ${destination}.`;
}
