/** Cachix Deploy routes (spec §8, §9): POST /api/v2/deploy/activate, GET /api/v1/deploy/deployment/{id}. */
import { callerOf } from '../auth.js';
import type { RequestContext } from '../context.js';
import { HttpError, badRequest, isObject, readJson, sendJson } from '../http.js';

const STORE_PATH_RE = /^\/nix\/store\/[0-9abcdfghijklmnpqrsvwxyz]{32}-[A-Za-z0-9+\-._?=]+$/;

export async function handleDeploy(ctx: RequestContext): Promise<void> {
  const { deploy } = ctx;
  // Activation tokens are their own kind: a cache token does not start deployments.
  const token = callerOf(ctx.req).token;
  if (token === undefined || !deploy.tokens.has(token)) {
    await readJson(ctx.req).catch(() => undefined);
    throw new HttpError(401, 'an activation token is required (Authorization: Bearer …)');
  }
  if (ctx.path === '/api/v2/deploy/activate' && ctx.req.method === 'POST') {
    const body = await readJson(ctx.req);
    if (!isObject(body) || !isObject(body.agents)) throw badRequest('expected {"agents": {"<agent>": "/nix/store/…"}, "rollbackScript"?}');
    const unknownKeys = Object.keys(body).filter((k) => k !== 'agents' && k !== 'rollbackScript');
    if (unknownKeys.length > 0) throw badRequest(`unknown field ${unknownKeys[0]}`);
    const entries = Object.entries(body.agents);
    if (entries.length === 0) throw badRequest('agents is empty');
    for (const [agent, path] of entries) {
      if (typeof path !== 'string' || !STORE_PATH_RE.test(path)) throw badRequest(`agents.${agent} must be a store path`);
      if (!deploy.hasAgent(agent)) throw badRequest(`no agent ${agent} in this workspace`);
    }
    deploy.activations.push(body);
    const agents: Record<string, { id: string; url: string }> = {};
    for (const [agent, path] of entries) {
      const record = deploy.start(agent, path as string);
      agents[agent] = { id: record.id, url: `${ctx.apiUrl}/deploy/deployment/${record.id}` };
    }
    return sendJson(ctx.res, 200, { agents });
  }
  const match = /^\/api\/v1\/deploy\/deployment\/([^/]+)$/.exec(ctx.path);
  if (match && ctx.req.method === 'GET') {
    const record = deploy.deployments.get(decodeURIComponent(match[1]!));
    if (!record) throw new HttpError(404, 'no such deployment');
    const status = deploy.advance(record);
    const done = status === 'Succeeded' || status === 'Failed' || status === 'Cancelled';
    return sendJson(ctx.res, 200, {
      id: record.id,
      index: record.index,
      createdOn: record.createdOn,
      startedOn: status === 'Pending' ? null : record.createdOn,
      finishedOn: done ? new Date().toISOString() : null,
      storePath: record.storePath,
      closureSize: null,
      status,
    });
  }
  throw new HttpError(404, `no such route: ${ctx.req.method} ${ctx.path}`);
}
