/** A throw-away HOME with a real config file written by the CLI itself (`authtoken --stdin`). */
import { join } from 'node:path';
import { isolatedEnv, runCli } from '../../support/cli.js';

export interface TestHome {
  env: NodeJS.ProcessEnv;
  home: string;
  configPath: string;
}

export async function homeWithToken(token: string, extra: NodeJS.ProcessEnv = {}): Promise<TestHome> {
  const env = await isolatedEnv(extra);
  const written = await runCli(['authtoken', '--stdin'], { env, input: `${token}\n` });
  if (written.code !== 0) throw new Error(`authtoken failed: ${written.stderr}`);
  return { env, home: env.HOME!, configPath: join(env.XDG_CONFIG_HOME!, 'cachix', 'cachix.dhall') };
}
