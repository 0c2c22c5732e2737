// PLACEHOLDER until its issue lands.
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';

export async function run(_ctx: Context, _args: unknown): Promise<number> {
  throw new CachixError('use is not implemented yet');
}
