import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../api/errors.js';
import { apiFor } from '../api/for-settings.js';
import type { CachixApi } from '../api/client.js';
import type { DeployRequest, Deployment } from '../api/types.js';
import { loadSettings } from '../config/settings.js';
import { retryScale } from '../config/tuning.js';
import type { Context } from '../context.js';
import { CachixError } from '../errors.js';
import { redact, registerSecret } from '../util/redact.js';

export interface DeployActivateArgs {
  specFile: string;
  /** --agent: only these agents of the spec (all when empty). */
  agents: string[];
  async: boolean;
}

/** spec §8: the status is asked for every 2 s. */
const POLL_MS = 2000;
const FINAL = new Set(['Succeeded', 'Failed', 'Cancelled']);

/**
 * `deploy activate SPEC.json`: asks Cachix Deploy to activate each agent's store path, then
 * (unless --async) follows every deployment until it ends, streaming its activation log, as the
 * real client does and in its shape (on stdout: the overview, `[agent] log line`s, the summary).
 * Exit 1 unless all succeeded.
 */
export async function activate(ctx: Context, args: DeployActivateArgs): Promise<number> {
  const token = ctx.env.CACHIX_ACTIVATE_TOKEN;
  if (!token) {
    throw new CachixError('deploy activate needs an activation token in $CACHIX_ACTIVATE_TOKEN', {
      hint: 'create one in your Cachix Deploy workspace and export it as CACHIX_ACTIVATE_TOKEN',
    });
  }
  registerSecret(token);
  const request = await readDeploySpec(args.specFile, args.agents);
  const settings = await loadSettings(ctx);
  const api = await apiFor(ctx, settings, { token });
  try {
    const response = await api.activateDeploy(request).catch((error: unknown) => {
      throw error instanceof ApiError && error.status === 401
        ? new CachixError('Cachix Deploy refused the activation token (401)', { hint: 'check CACHIX_ACTIVATE_TOKEN', cause: error })
        : error;
    });
    const agents = Object.entries(response.agents);
    ctx.stdout.write(['Deploying agents:', ...agents.map(([agent, d]) => `[${agent}] ${d.url}`)].join('\n') + '\n');
    if (args.async) return 0;
    ctx.stdout.write('\n');
    const { streamDeployLog } = await import('../api/deploy-log.js');
    const pollMs = POLL_MS * retryScale(ctx.env);
    const outcomes = await Promise.all(
      agents.map(async ([agent, d]) => {
        const log = streamDeployLog({
          host: settings.hostname,
          token,
          deploymentId: d.id,
          dispatcher: api.http.dispatcher,
          onLine: (line) => ctx.stdout.write(`[${agent}] ${redact(line)}\n`),
        });
        const deployment = await follow(api, d.id, pollMs);
        // A finished deployment's log still has its last lines on the way.
        if (deployment.status === 'Succeeded' || deployment.status === 'Failed') await log;
        return { agent, deployment };
      }),
    );
    ctx.stdout.write(['', 'Deployment summary:', ...outcomes.map(({ agent, deployment }) => `[${agent}] ${SUMMARY[deployment.status]}`)].join('\n') + '\n');
    return outcomes.every((o) => o.deployment.status === 'Succeeded') ? 0 : 1;
  } finally {
    await api.close();
  }
}

const SUMMARY: Record<Deployment['status'], string> = {
  Succeeded: 'Deployed successfully',
  Failed: 'Failed to deploy',
  Cancelled: 'Deployment cancelled',
  InProgress: 'Still deploying',
  Pending: 'Deployment not started',
};

/** Asks how a deployment is going until it ends. */
async function follow(api: CachixApi, id: string, pollMs: number): Promise<Deployment> {
  for (;;) {
    const deployment = await api.deployment(id);
    if (FINAL.has(deployment.status)) return deployment;
    await sleep(pollMs);
  }
}

/** The spec file (`{"agents": {"<agent>": "/nix/store/…"}, "rollbackScript"?: …}`), narrowed to `only` agents. */
export async function readDeploySpec(file: string, only: readonly string[]): Promise<DeployRequest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CachixError(`cannot read the deploy spec ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (error) {
    throw new CachixError(`the deploy spec ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const agents = (spec as { agents?: unknown } | null)?.agents;
  if (typeof agents !== 'object' || agents === null || Array.isArray(agents)) {
    throw new CachixError(`the deploy spec ${file} needs "agents": {"<agent name>": "/nix/store/…"}`);
  }
  for (const [name, path] of Object.entries(agents)) {
    if (typeof path !== 'string' || !path.startsWith('/nix/store/')) throw new CachixError(`the deploy spec ${file}: agent ${name} must map to a /nix/store path`);
  }
  const all = agents as Record<string, string>;
  const missing = only.filter((a) => !(a in all));
  if (missing.length > 0) {
    throw new CachixError(`agent ${missing[0]} is not in ${file}`, { hint: `it has: ${Object.keys(all).join(', ') || 'no agents'}` });
  }
  const chosen = only.length === 0 ? all : Object.fromEntries(only.map((a) => [a, all[a]!]));
  if (Object.keys(chosen).length === 0) throw new CachixError(`the deploy spec ${file} names no agents`);
  const rollbackScript = (spec as { rollbackScript?: unknown }).rollbackScript;
  return rollbackScript === undefined ? { agents: chosen } : { agents: chosen, rollbackScript };
}
