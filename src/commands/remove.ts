import type { Context } from '../context.js';
import { removeCache } from '../use/remove-cache.js';
import { realSystem, type UseSystem } from '../use/system.js';

/** `cachix remove CACHE`; `system` is injected by tests (temp root dir, fake commands). */
export async function run(ctx: Context, args: { cache: string }, system: UseSystem = realSystem(ctx.env)): Promise<number> {
  return removeCache(ctx, args, system);
}
