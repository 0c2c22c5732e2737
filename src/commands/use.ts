import type { Context } from '../context.js';
import type { RequestedMode } from '../use/mode.js';
import { realSystem, type UseSystem } from '../use/system.js';
import { useCache } from '../use/use-cache.js';

/** `cachix use CACHE`; `system` is injected by tests (temp root dir, fake commands). */
export async function run(
  ctx: Context,
  args: { cache: string; mode?: RequestedMode; nixosFolder: string; outputDirectory?: string },
  system: UseSystem = realSystem(ctx.env),
): Promise<number> {
  return useCache(ctx, args, system);
}
