import { readConfigFile, writeConfigFile } from '../config/file.js';
import { normaliseHost } from '../config/settings.js';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';

const KEYS = ['hostname'] as const;

/** `cachix config get hostname` / `cachix config set hostname URI` (spec §1.1). */
export async function run(ctx: Context, args: { action: string; key: string; value?: string | undefined }): Promise<number> {
  if (args.action !== 'get' && args.action !== 'set') {
    throw new CachixError(`unknown config action "${args.action}": use "get" or "set"`, { hint: 'cachix config get hostname' });
  }
  if (!(KEYS as readonly string[]).includes(args.key)) {
    throw new CachixError(`unknown config key "${args.key}": the only key is ${KEYS.join(', ')}`);
  }
  const config = await readConfigFile(ctx.configPath);
  if (args.action === 'get') {
    if (args.value !== undefined) throw new CachixError(`config get takes no value (got "${args.value}")`);
    ctx.stdout.write(`${config.hostname}\n`);
    return 0;
  }
  if (args.value === undefined) throw new CachixError('config set hostname needs a value, e.g. cachix config set hostname https://cachix.org');
  const hostname = normaliseHost(args.value.trim(), 'the command line');
  ctx.stdout.write(`${await writeConfigFile(ctx.configPath, { ...config, hostname })}\n`);
  return 0;
}
