import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandIn, type StandIn } from '../support/standin/index.js';
import { call } from './raw-client.js';

const PATH = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-system';

describe('stand-in Cachix Deploy routes', () => {
  let s: StandIn;
  beforeAll(async () => {
    s = await startStandIn();
    s.deploy.tokens.add('act');
    s.addToken('cache-token', {});
    s.deploy.addAgent('a', ['Pending', 'Failed']);
  });
  afterAll(() => s.close());
  const activate = (json: unknown, token: string | null = 'act') => call('POST', `${s.apiUrl}/api/v2/deploy/activate`, { token, json });

  it('needs an activation token: none, an unknown one or a cache token get 401', async () => {
    for (const token of [null, 'nope', 'cache-token']) expect((await activate({ agents: { a: PATH } }, token)).status).toBe(401);
    expect(s.deploy.activations).toEqual([]);
  });

  it.each([
    [{}, /agents/],
    [{ agents: {} }, /agents is empty/],
    [{ agents: { a: '/tmp/x' } }, /agents\.a must be a store path/],
    [{ agents: { zz: PATH } }, /no agent zz/],
    [{ agents: { a: PATH }, extra: 1 }, /unknown field extra/],
  ])('400 for %j', async (body, message) => {
    const res = await activate(body);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(message);
  });

  it('starts a deployment per agent whose status follows its script, one step per query, then stays', async () => {
    const res = await activate({ agents: { a: PATH } });
    expect(res.status).toBe(200);
    const { id, url } = (res.json() as { agents: { a: { id: string; url: string } } }).agents.a;
    expect(url).toBe(`${s.apiUrl}/deploy/deployment/${id}`);
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = await call('GET', `${s.apiUrl}/api/v1/deploy/deployment/${id}`, { token: 'act' });
      const body = d.json() as { status: string; storePath: string; id: string };
      expect(body).toMatchObject({ id, storePath: PATH });
      statuses.push(body.status);
    }
    expect(statuses).toEqual(['Pending', 'Failed', 'Failed']);
    expect((await call('GET', `${s.apiUrl}/api/v1/deploy/deployment/unknown`, { token: 'act' })).status).toBe(404);
  });
});
