import { constants } from 'node:fs';
import { access } from 'node:fs/promises';

/** Whether this process may access `path` with `mode` (no exception for "no"). */
async function canAccess(path: string, mode: number): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

export function exists(path: string): Promise<boolean> {
  return canAccess(path, constants.F_OK);
}

export function isWritable(path: string): Promise<boolean> {
  return canAccess(path, constants.W_OK);
}
