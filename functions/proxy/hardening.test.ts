import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator } from '../../dev/simulator';
import { listen, type RunningServer } from '../../shared/platform/server';
import { testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

interface ErrorBody {
  error: { code: string; message: string };
}

describe.each(testTargets())('proxy hardening on $name', (target) => {
  const oa = testApp({ tokenMode: 'classic' });
  const guarded = testApp({ tokenMode: 'classic' });
  const mp = testApp({ kind: 'miniprogram', tokenMode: 'stable' });
  let hub: TestHub;
  let server: RunningServer;
  beforeAll(async () => {
    hub = await createTestHub(target, {
      apps: [oa, guarded, mp],
      env: { WXHUB_PROXY_TIMEOUT_MS: '300', WXHUB_PROXY_MAX_BYTES: '200000' },
    });
    server = await listen(hub.app, 0, hub.deps.log, '127.0.0.1');
  });
  afterAll(async () => {
    await server.close(100);
    await hub.close();
  });
  const sim = () => hub.sim.sim;
  const get = (path: string) => hub.app.request(path, { headers: AUTH });

  describe('credential-minting paths', () => {
    it.each([
      ['cgi-bin/token?grant_type=client_credential', 'GET /v1/apps/{app}/token'],
      ['cgi-bin/stable_token', 'GET /v1/apps/{app}/token'],
      ['cgi-bin//token', 'GET /v1/apps/{app}/token'],
      ['CGI-BIN/Token/', 'GET /v1/apps/{app}/token'],
      ['cgi-bin/%74oken', 'GET /v1/apps/{app}/token'],
      ['cgi-bin/ticket/getticket?type=jsapi', 'GET /v1/apps/{app}/ticket?type=jsapi'],
      ['cgi-bin/component/api_component_token', 'GET /v1/components/{app}/token'],
      ['cgi-bin/component/api_authorizer_token', '/authorizers/{appid}/token'],
      ['cgi-bin/component/api_query_auth', '/authorizers/{appid}/token'],
      ['cgi-bin/component/api_create_preauthcode', '/auth-url'],
      ['cgi-bin/gettoken', 'GET /v1/apps/{app}/token'],
      ['cgi-bin/service/get_suite_token', 'GET /v1/suites/{app}/token'],
      ['cgi-bin/service/get_provider_token', 'provider'],
      ['cgi-bin/service/get_corp_token', '/corps/{corpid}/token'],
      ['cgi-bin/service/get_permanent_code', '/install-url'],
      ['api/apps/v2/token', 'GET /v1/apps/{app}/token'],
      ['api/apps/token', 'GET /v1/apps/{app}/token'],
    ])('refuses %s with 403 naming %s, and calls nothing', async (path, route) => {
      const before = sim().counters().byPath;
      const res = await hub.app.request(`/v1/proxy/${oa.name}/${path}`, {
        method: path.includes('stable') ? 'POST' : 'GET',
        headers: AUTH,
      });
      expect(res.status).toBe(403);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe('FORBIDDEN');
      expect(body.error.message).toContain(route.replace('{app}', oa.name));
      expect(sim().counters().byPath).toEqual(before);
    });

    it('lets user-token OAuth calls through (they touch no credential the hub holds)', async () => {
      const res = await get(`/v1/proxy/${oa.name}/sns/oauth2/access_token?code=c`);
      expect(res.status).not.toBe(403);
      expect(sim().calls('/sns/oauth2/access_token')).toBe(1);
    });
  });

  describe('refreshes reported by callers', () => {
    it('fetches at most one classic token per 30 s per app; beyond it WeChat answers as is', async () => {
      await get(`/v1/apps/${guarded.name}/token`);
      const tokens = () => sim().calls('/cgi-bin/token', guarded.appId);
      const ip = () => sim().calls('/cgi-bin/getcallbackip', guarded.appId);
      const start = tokens();
      const proxied = async () =>
        (await (await get(`/v1/proxy/${guarded.name}/cgi-bin/getcallbackip`)).json()) as {
          errcode?: number;
          ip_list?: string[];
        };
      sim().injectFault({ path: '/cgi-bin/getcallbackip', appId: guarded.appId, errcode: 40001 });
      expect((await proxied()).ip_list).toBeDefined();
      expect(tokens()).toBe(start + 1);
      for (let i = 0; i < 5; i += 1) {
        const calls = ip();
        sim().injectFault({ path: '/cgi-bin/getcallbackip', appId: guarded.appId, errcode: 40001 });
        expect((await proxied()).errcode).toBe(40001);
        expect(ip()).toBe(calls + 1);
      }
      expect(tokens()).toBe(start + 1);
      // The invalidate route shares the budget, and says why it held back.
      const current = (
        (await (await get(`/v1/apps/${guarded.name}/token`)).json()) as { accessToken: string }
      ).accessToken;
      const held = await hub.app.request(`/v1/apps/${guarded.name}/token/invalidate`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ accessToken: current }),
      });
      const heldBody = (await held.json()) as { accessToken: string } & ErrorBody;
      expect(heldBody.accessToken).toBe(current);
      expect(heldBody.error.code).toBe('RATE_LIMITED');
      expect(tokens()).toBe(start + 1);
      sim().clock.advance(30_000);
      sim().injectFault({ path: '/cgi-bin/getcallbackip', appId: guarded.appId, errcode: 40001 });
      expect((await proxied()).ip_list).toBeDefined();
      expect(tokens()).toBe(start + 2);
    });
  });

  describe('upstream answers', () => {
    it('does not follow a redirect: 502, and the target is never called', async () => {
      sim().injectFault({
        path: '/cgi-bin/getcallbackip',
        redirect: `${hub.sim.url}/cgi-bin/redirected`,
      });
      const res = await get(`/v1/proxy/${oa.name}/cgi-bin/getcallbackip`);
      expect(res.status).toBe(502);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe('UPSTREAM_WECHAT');
      expect(body.error.message).not.toContain(hub.sim.url);
      expect(sim().calls('/cgi-bin/redirected')).toBe(0);
    });

    it('drops cookies, auth challenges and CORS headers from WeChat', async () => {
      sim().injectFault({
        path: '/cgi-bin/getcallbackip',
        headers: {
          'set-cookie': 'sid=upstream',
          'set-cookie2': 'old=1',
          'www-authenticate': 'Basic realm="wx"',
          'proxy-authenticate': 'Basic realm="px"',
          'access-control-allow-origin': '*',
          'access-control-allow-credentials': 'true',
          'x-upstream-kept': 'yes',
        },
      });
      const res = await get(`/v1/proxy/${oa.name}/cgi-bin/getcallbackip`);
      expect(res.status).toBe(200);
      const names = [...res.headers.keys()];
      for (const dropped of [
        'set-cookie',
        'set-cookie2',
        'www-authenticate',
        'proxy-authenticate',
      ]) {
        expect(names).not.toContain(dropped);
      }
      expect(names.filter((n) => n.startsWith('access-control-'))).toEqual([]);
      expect(res.headers.get('x-upstream-kept')).toBe('yes');
      expect(await res.json()).toHaveProperty('ip_list');
    });

    it('answers 504 when a JSON body stalls before the caller got anything', async () => {
      sim().injectFault({ path: '/cgi-bin/getcallbackip', stallAfterBytes: 5 });
      const res = await get(`/v1/proxy/${oa.name}/cgi-bin/getcallbackip`);
      expect(res.status).toBe(504);
      expect(((await res.json()) as ErrorBody).error.code).toBe('UPSTREAM_TIMEOUT');
    });

    it('cuts the caller off when an image stalls mid-body: an aborted transfer, a log line, no stack', async () => {
      const warn = vi.spyOn(hub.deps.log, 'warn');
      const stderr = vi.spyOn(console, 'error');
      sim().injectFault({ path: '/wxa/getwxacodeunlimit', stallAfterBytes: 100 });
      const res = await fetch(`${server.url}/v1/proxy/${mp.name}/wxa/getwxacodeunlimit`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ scene: 'a=1' }),
      });
      expect(res.status).toBe(200);
      await expect(res.arrayBuffer()).rejects.toThrow();
      await vi.waitFor(() =>
        expect(warn).toHaveBeenCalledWith(
          expect.objectContaining({ reason: 'WeChat sent no bytes for 300 ms' }),
          'proxy: answer cut off',
        ),
      );
      expect(stderr).not.toHaveBeenCalled();
      warn.mockRestore();
      stderr.mockRestore();
      // In process (no socket to drop), the body stream errors instead of ending.
      sim().injectFault({ path: '/wxa/getwxacodeunlimit', stallAfterBytes: 100 });
      const local = await hub.app.request(`/v1/proxy/${mp.name}/wxa/getwxacodeunlimit`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ scene: 'a=1' }),
      });
      expect(local.status).toBe(200);
      await expect(local.arrayBuffer()).rejects.toThrow();
    });

    it('streams JSON up to WXHUB_PROXY_MAX_BYTES; a longer one is 502, or cut off when chunked', async () => {
      sim().injectFault({ path: '/cgi-bin/getcallbackip', bodyBytes: 150_000, chunked: true });
      const fits = await get(`/v1/proxy/${oa.name}/cgi-bin/getcallbackip`);
      expect(fits.status).toBe(200);
      expect((await fits.arrayBuffer()).byteLength).toBe(150_000);
      sim().injectFault({ path: '/cgi-bin/getcallbackip', bodyBytes: 300_000 });
      const big = await get(`/v1/proxy/${oa.name}/cgi-bin/getcallbackip`);
      expect(big.status).toBe(502);
      const body = (await big.json()) as ErrorBody;
      expect(body.error.code).toBe('UPSTREAM_WECHAT');
      expect(body.error.message).toContain('WXHUB_PROXY_MAX_BYTES');
      // Without a length, it is found out while streaming: the transfer is cut off.
      sim().injectFault({ path: '/cgi-bin/getcallbackip', bodyBytes: 300_000, chunked: true });
      const chunked = await get(`/v1/proxy/${oa.name}/cgi-bin/getcallbackip`);
      expect(chunked.status).toBe(200);
      await expect(chunked.arrayBuffer()).rejects.toThrow();
    });
  });

  describe('paths and bodies', () => {
    it('derives the upstream path from the decoded app name', async () => {
      expect(oa.name).toContain('-');
      const calls = sim().calls('/cgi-bin/getcallbackip', oa.appId);
      const encoded = oa.name.replace('-', '%2D');
      const res = await get(`/v1/proxy/${encoded}/cgi-bin/getcallbackip`);
      expect(res.status).toBe(200);
      expect(await res.json()).toHaveProperty('ip_list');
      expect(sim().calls('/cgi-bin/getcallbackip', oa.appId)).toBe(calls + 1);
    });
  });
});

describe.each(testTargets())('proxy media uploads on $name', (target) => {
  const oa = testApp({ tokenMode: 'classic' });
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [oa] });
  });
  afterAll(() => hub.close());

  it('carries a 10 MB multipart image upload byte-exact, past the 1 MiB body limit', async () => {
    const form = new FormData();
    form.append('media', new Blob([randomBytes(10 * 1000 * 1000)]), 'photo.jpg');
    const encoded = new Request('http://multipart.local/', { method: 'POST', body: form });
    const bytes = new Uint8Array(await encoded.arrayBuffer());
    const type = encoded.headers.get('content-type') ?? '';
    const res = await hub.app.request(`/v1/proxy/${oa.name}/cgi-bin/media/upload?type=image`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': type },
      body: bytes,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      type: 'image',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    // Other routes keep WXHUB_BODY_LIMIT_BYTES (1 MiB by default).
    const other = await hub.app.request(`/v1/apps/${oa.name}/token/invalidate`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: bytes,
    });
    expect(other.status).toBe(413);
  });
});

describe.each(testTargets())('proxy with WeChat down on $name', (target) => {
  it('answers 503 UNAVAILABLE when WeChat cannot be reached', async () => {
    const app = testApp({ tokenMode: 'classic' });
    const sim = await startSimulator();
    const hub = await createTestHub(target, { apps: [app], sim });
    try {
      await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
      await sim.close();
      const res = await hub.app.request(`/v1/proxy/${app.name}/cgi-bin/getcallbackip`, {
        headers: AUTH,
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as ErrorBody).error.code).toBe('UNAVAILABLE');
    } finally {
      await hub.close();
    }
  });
});
