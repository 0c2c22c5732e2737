import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyFromEnv } from '../../../src/api/proxy.js';
import { formatPublicKeyNix, formatSecretKeyBare, generateSecretKey } from '../../../src/nix/keys.js';
import { isolatedEnv, runCli } from '../../support/cli.js';
import { startConnectProxy, type ConnectProxy } from '../../support/connect-proxy.js';
import { describeNix } from '../../support/nix/available.js';
import { makeTestClosure, type TestClosure } from '../../support/nix/closure.js';
import { startStandIn, type StandIn } from '../../support/standin/index.js';

describe('proxy settings from the environment', () => {
  it('reads http(s)_proxy and no_proxy, lowercase first, and nothing when no proxy is named', () => {
    expect(proxyFromEnv({})).toBeUndefined();
    expect(proxyFromEnv({ NO_PROXY: 'x' })).toBeUndefined();
    expect(proxyFromEnv({ HTTPS_PROXY: 'http://p:1', no_proxy: 'a,b' })).toEqual({ httpProxy: undefined, httpsProxy: 'http://p:1', noProxy: 'a,b' });
    expect(proxyFromEnv({ http_proxy: 'http://low:1', HTTP_PROXY: 'http://up:1', NO_PROXY: 'c' })).toEqual({ httpProxy: 'http://low:1', httpsProxy: undefined, noProxy: 'c' });
  });
});

describeNix('push through an HTTP proxy (HTTP_PROXY / NO_PROXY)', () => {
  let server: StandIn;
  let proxy: ConnectProxy;
  let closure: TestClosure;
  const key = generateSecretKey();
  let caches = 0;

  beforeAll(async () => {
    [server, proxy, closure] = await Promise.all([startStandIn(), startConnectProxy(), makeTestClosure()]);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
  });

  async function push(extraEnv: NodeJS.ProcessEnv) {
    const name = `proxied${++caches}`;
    await server.addCache({ name, publicKey: formatPublicKeyNix(key.publicKey, `${name}.cachix.org-1`) });
    const env = await isolatedEnv({ CACHIX_SIGNING_KEY: formatSecretKeyBare(key), ...extraEnv });
    return { name, result: await runCli(['--host', server.apiUrl, 'push', name, closure.top], { env }) };
  }

  it('sends every API call and part upload through the proxy', async () => {
    const before = proxy.tunnels.length;
    const { name, result } = await push({ HTTP_PROXY: proxy.url });
    expect(result.code, result.stderr).toBe(0);
    expect(server.listNarinfos(name)).toHaveLength(closure.paths.length);
    const host = new URL(server.apiUrl).host;
    expect(proxy.tunnels.length).toBeGreaterThan(before);
    expect(proxy.tunnels.slice(before).every((t) => t === host)).toBe(true);
  });

  it('goes direct to hosts NO_PROXY names', async () => {
    const before = proxy.tunnels.length;
    const { name, result } = await push({ http_proxy: proxy.url, no_proxy: 'localhost,127.0.0.1' });
    expect(result.code, result.stderr).toBe(0);
    expect(server.listNarinfos(name)).toHaveLength(closure.paths.length);
    expect(proxy.tunnels.length).toBe(before);
  });

  it('a proxy that is not there is one line and exit 1', async () => {
    const { result } = await push({ HTTP_PROXY: 'http://127.0.0.1:9', CACHIX_RETRY_SCALE: '0.001' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^cachix: .*(refused|proxy)/i);
  });
});
