import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

describe.each(testTargets())('token function on $name', (target) => {
  const oa = testApp({ tokenMode: 'classic' });
  const mp = testApp({ kind: 'miniprogram', tokenMode: 'stable' });
  const noSecret = testApp({ appSecret: undefined });
  const component = testApp({ kind: 'component' });
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [oa, mp, noSecret, component] });
  });
  afterAll(() => hub.close());

  const get = (path: string, headers: Record<string, string> = AUTH) =>
    hub.app.request(path, { headers });

  it('serves a classic token from the simulator, then from the cache with no upstream call', async () => {
    const res = await get(`/v1/apps/${oa.name}/token`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { appId: string; accessToken: string; expiresAt: string };
    expect(body.appId).toBe(oa.appId);
    expect(hub.sim.sim.isTokenValid(body.accessToken)).toBe(true);
    expect(Date.parse(body.expiresAt)).toBe(hub.sim.sim.clock.now() + 7_200_000);
    expect(body.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const again = (await (await get(`/v1/apps/${oa.name}/token`)).json()) as {
      accessToken: string;
    };
    expect(again.accessToken).toBe(body.accessToken);
    expect(hub.sim.sim.calls('/cgi-bin/token', oa.appId)).toBe(1);
  });

  it('serves a stable token through /cgi-bin/stable_token', async () => {
    const res = await get(`/v1/apps/${mp.name}/token`);
    expect(res.status).toBe(200);
    expect(hub.sim.sim.calls('/cgi-bin/stable_token', mp.appId)).toBe(1);
    expect(hub.sim.sim.calls('/cgi-bin/token', mp.appId)).toBe(0);
  });

  it('serves a jsapi ticket fetched with the current token', async () => {
    const res = await get(`/v1/apps/${oa.name}/ticket?type=jsapi`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { appId: string; ticket: string; expiresAt: string };
    expect(body.appId).toBe(oa.appId);
    expect(body.ticket.length).toBeGreaterThan(10);
    expect(hub.sim.sim.calls('/cgi-bin/ticket/getticket', oa.appId)).toBe(1);
  });

  it('answers 404 for an unknown app, 400 for a bad ticket type or app kind, 409 without a secret', async () => {
    const unknown = await get('/v1/apps/no-such-app/token');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: {
        code: 'NOT_FOUND',
        message: 'no app named "no-such-app"',
        requestId: unknown.headers.get('x-request-id'),
      },
    });
    const badType = await get(`/v1/apps/${oa.name}/ticket?type=card`);
    expect(badType.status).toBe(400);
    expect(((await badType.json()) as { error: { message: string } }).error.message).toBe(
      'type must be one of jsapi, wx_card',
    );
    expect((await get(`/v1/apps/${component.name}/token`)).status).toBe(400);
    expect((await get(`/v1/apps/${noSecret.name}/token`)).status).toBe(409);
  });

  it('requires a valid bearer key', async () => {
    const missing = await get(`/v1/apps/${oa.name}/token`, {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await get(`/v1/apps/${oa.name}/token`, {
      authorization: 'Bearer test-key-0123456789abcdeX',
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    expect((await get(`/v1/apps/${oa.name}/token`, { authorization: 'Basic abc' })).status).toBe(
      401,
    );
    expect((await get(`/v1/apps/${oa.name}/token`, { 'x-wx-source': 'wxcloudrun' })).status).toBe(
      401,
    );
  });

  it('surfaces a WeChat configuration error as 502 with errcode and message, without retrying per request', async () => {
    const bad = testApp({ appSecret: 'wrong-secret' });
    hub.sim.sim.registerApp({ appId: bad.appId, secret: 'the-real-secret' });
    const { syncAppsFile } = await import('../../shared/apps/sync');
    await syncAppsFile(
      hub.deps.store,
      { apps: [oa, mp, noSecret, component, bad], merchants: [] },
      hub.deps.clock.now(),
    );
    const res = await get(`/v1/apps/${bad.name}/token`);
    expect(res.status).toBe(502);
    const body = (await res.json()) as {
      error: { code: string; message: string; errcode: number };
    };
    expect(body.error.code).toBe('UPSTREAM_WECHAT');
    expect(body.error.errcode).toBe(40125);
    expect(body.error.message).toContain('errcode 40125');
    expect(body.error.message).not.toContain('wrong-secret');
    expect((await get(`/v1/apps/${bad.name}/token`)).status).toBe(502);
    expect(hub.sim.sim.calls('/cgi-bin/token', bad.appId)).toBe(1);
  });

  it('runs a refresh pass over the internal route', async () => {
    // The pass also drains the outbox of the whole (shared) database: at a clock before any
    // other test's deliveries are due, it leaves them alone.
    hub.sim.sim.clock.set(Date.UTC(2001, 0, 1));
    const res = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { checked: number; refreshed: number; failed: unknown[] };
    expect(body).toEqual({
      checked: expect.any(Number),
      refreshed: expect.any(Number),
      failed: expect.any(Array),
      outbox: { delivered: 0, retrying: 0, dead: 0 },
      purged: {
        messages: 0,
        deliveries: 0,
        signatures: 0,
        authorizationCodes: 0,
        loginFailures: 0,
      },
    });
    expect((await hub.app.request('/v1/refresh', { method: 'POST' })).status).toBe(401);
  });
});

describe('x-wx-source on CloudRun', () => {
  it('counts as internal only when WXHUB_TRUST_WX_SOURCE=1', async () => {
    const [sqlite] = testTargets();
    if (sqlite === undefined) throw new Error('no sqlite target');
    const app = testApp();
    const hub = await createTestHub(sqlite, { apps: [app], env: { WXHUB_TRUST_WX_SOURCE: '1' } });
    try {
      for (const header of ['x-wx-source', 'x-wx-sources']) {
        const res = await hub.app.request(`/v1/apps/${app.name}/token`, {
          headers: { [header]: 'wxcloudrun' },
        });
        expect(res.status).toBe(200);
      }
    } finally {
      await hub.close();
    }
  });
});
