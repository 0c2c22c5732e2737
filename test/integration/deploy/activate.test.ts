import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runCli } from '../../support/cli.js';
import { startStandIn, type StandIn } from '../../support/standin/index.js';

const TOKEN = 'activate-tok-1f2e3d';
const PATH_A = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-system-a';
const PATH_B = '/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-system-b';

describe('cachix deploy activate', () => {
  let server: StandIn;
  let dir: string;
  let spec: string;

  beforeAll(async () => {
    server = await startStandIn();
    server.deploy.tokens.add(TOKEN);
    server.deploy.addAgent('web', ['Pending', 'InProgress', 'InProgress', 'Succeeded'], ['building the profile', 'switching to it']);
    server.deploy.addAgent('db', ['InProgress', 'Succeeded']);
    server.deploy.addAgent('broken', ['Pending', 'InProgress', 'Failed']);
    dir = await mkdtemp(join(tmpdir(), 'deploy-'));
    spec = join(dir, 'deploy.json');
    await writeFile(spec, JSON.stringify({ agents: { web: PATH_A, db: PATH_B }, rollbackScript: { web: '/nix/store/x-rollback' } }));
  });
  afterAll(() => server.close());

  const deploy = async (args: string[], extra: NodeJS.ProcessEnv = { CACHIX_ACTIVATE_TOKEN: TOKEN }) =>
    runCli(['--host', server.apiUrl, 'deploy', 'activate', ...args], { env: await isolatedEnv(extra) });

  it('activates every agent of the spec, streams each activation log, follows each deployment to the end and exits 0', async () => {
    const before = server.deploy.activations.length;
    const result = await deploy([spec]);
    expect(result.code, result.stderr).toBe(0);
    expect(server.deploy.activations.slice(before)).toEqual([{ agents: { web: PATH_A, db: PATH_B }, rollbackScript: { web: '/nix/store/x-rollback' } }]);
    const url = `${server.apiUrl}/deploy/deployment/[0-9a-f-]{36}`;
    expect(result.stdout).toMatch(new RegExp(`^Deploying agents:\n\\[web\\] ${url}\n\\[db\\] ${url}\n\n`));
    // The log, line by line and in order, per agent (the two agents' lines may interleave).
    const log = result.stdout.split('\nDeployment summary:')[0]!.split('\n').slice(3); // after the overview
    expect(log.filter((l) => l.startsWith('[web] '))).toEqual([
      `[web] Activating ${PATH_A}`,
      '[web] building the profile',
      '[web] switching to it',
      '[web] Successfully activated the deployment',
    ]);
    expect(result.stdout).toMatch(/\nDeployment summary:\n\[web\] Deployed successfully\n\[db\] Deployed successfully\n$/);
    expect(result.stderr).toBe('');
    expect(result.stdout).not.toContain(TOKEN);
    expect(server.deploy.logViews.slice(-2).map((v) => v.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    // Bearer with the activation token on both routes.
    const deployRequests = server.log.filter((e) => e.path.includes('/deploy/'));
    expect(deployRequests.every((e) => e.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(deployRequests.some((e) => e.path === '/api/v2/deploy/activate')).toBe(true);
  });

  it('--agent narrows the spec; --async returns after activation without following', async () => {
    const before = server.deploy.activations.length;
    const logBefore = server.log.length;
    const result = await deploy([spec, '--agent', 'db', '--async']);
    expect(result.code, result.stderr).toBe(0);
    expect(server.deploy.activations.slice(before)).toEqual([{ agents: { db: PATH_B }, rollbackScript: { web: '/nix/store/x-rollback' } }]);
    expect(server.log.slice(logBefore).filter((e) => e.path.startsWith('/api/v1/deploy/deployment/'))).toEqual([]);
    expect(result.stdout).toMatch(/^Deploying agents:\n\[db\] \S+\n$/);
  });

  it('exits 1 naming the failed deployment and its page', async () => {
    const failing = join(dir, 'failing.json');
    await writeFile(failing, JSON.stringify({ agents: { broken: PATH_A, db: PATH_B } }));
    const result = await deploy([failing]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('[broken] Failed to activate the deployment\n');
    expect(result.stdout).toMatch(/\nDeployment summary:\n\[broken\] Failed to deploy\n\[db\] Deployed successfully\n$/);
  });

  it.each([
    ['no token', [], {}, /^cachix: deploy activate needs an activation token in \$CACHIX_ACTIVATE_TOKEN/],
    ['a refused token', [], { CACHIX_ACTIVATE_TOKEN: 'wrong-token' }, /^cachix: Cachix Deploy refused the activation token \(401\)/],
    ['a missing spec file', ['/nonexistent/deploy.json'], undefined, /^cachix: cannot read the deploy spec \/nonexistent\/deploy\.json: no such file/],
    ['an agent not in the spec', ['--agent', 'cache'], undefined, /^cachix: agent cache is not in .*deploy\.json \(it has: web, db\)/],
  ])('%s is one line and exit 1', async (_name, extraArgs, env, stderr) => {
    const args = (extraArgs as string[])[0]?.startsWith('/') ? (extraArgs as string[]) : [spec, ...(extraArgs as string[])];
    const result = await deploy(args, env ?? { CACHIX_ACTIVATE_TOKEN: TOKEN });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(stderr);
  });

  it('a spec that is not JSON, or has no agents map, is one line', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"agents": [');
    const notJson = await deploy([bad]);
    expect(notJson.stderr).toMatch(/^cachix: the deploy spec .*bad\.json is not valid JSON: /);
    await writeFile(bad, '{"agent": {}}');
    const noAgents = await deploy([bad]);
    expect(noAgents.stderr).toMatch(/^cachix: the deploy spec .*bad\.json needs "agents"/);
    expect([notJson.code, noAgents.code]).toEqual([1, 1]);
  });
});
