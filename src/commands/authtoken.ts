import { readConfigFile, writeConfigFile } from '../config/file.js';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import { readAll } from '../util/read-stdin.js';

/**
 * `cachix authtoken [TOKEN] [--stdin]` (spec §3): keep the token in the config file, all
 * other fields untouched. No network call. The token is never echoed.
 */
export async function run(ctx: Context, args: { token?: string | undefined; stdin: boolean }): Promise<number> {
  const token = (await obtainToken(ctx, args)).trim();
  if (token === '') throw new CachixError('the auth token is empty', { hint: 'create one at https://app.cachix.org' });
  if (/\s/.test(token)) {
    throw new CachixError('the auth token contains whitespace inside it; give exactly one token', {
      hint: 'tokens are a single word; check that only the token was pasted or piped',
    });
  }
  const config = await readConfigFile(ctx.configPath);
  ctx.stdout.write(`${await writeConfigFile(ctx.configPath, { ...config, authToken: token })}\n`);
  return 0;
}

async function obtainToken(ctx: Context, args: { token?: string | undefined; stdin: boolean }): Promise<string> {
  if (args.token !== undefined && args.stdin) {
    throw new CachixError('give the token either as an argument or with --stdin, not both');
  }
  if (args.token !== undefined) return args.token;
  // Without an argument, piped input is the token even without --stdin.
  if (args.stdin || !ctx.stdin.isTTY) return readAll(ctx.stdin);
  throw new CachixError('no auth token given', {
    hint: 'run `cachix authtoken --stdin` and paste the token, or pipe it in: `echo $TOKEN | cachix authtoken --stdin`',
  });
}
