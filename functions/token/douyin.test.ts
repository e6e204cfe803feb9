import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import type { AppConfig } from '../../shared/config';
import { testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

const TOKEN_PATH = '/douyin/api/apps/v2/token';
const SHARE_CONFIG = 'api/apps/share_config';

type TokenBody = { appId: string; accessToken: string; expiresAt: string };

const douyinApp = (): AppConfig => {
  const app = testApp({ kind: 'douyin' });
  return { ...app, appId: `tt${app.appId.slice(2)}` };
};

async function token(hub: TestHub, app: AppConfig): Promise<TokenBody> {
  const res = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
  if (res.status !== 200) throw new Error(`token answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as TokenBody;
}

const post = (hub: TestHub, path: string, body: unknown) =>
  hub.app.request(path, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe.each(testTargets())('douyin apps on $name', (target) => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it("serves the app's token from Douyin's v2 endpoint, then from the store", async () => {
    const app = douyinApp();
    const hub = await createTestHub(target, { apps: [app], sim });
    try {
      const first = await token(hub, app);
      expect(first.appId).toBe(app.appId);
      expect(sim.sim.douyin.isTokenValid(first.accessToken)).toBe(true);
      expect(new Date(first.expiresAt).getTime()).toBe(sim.sim.clock.now() + 7200_000);
      expect(await token(hub, app)).toEqual(first);
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(1);
      // WeChat's token endpoints are never called for it.
      expect(sim.sim.calls('/cgi-bin/token', app.appId)).toBe(0);
      expect(sim.sim.calls('/cgi-bin/stable_token', app.appId)).toBe(0);
    } finally {
      await hub.close();
    }
  });

  it('3 instances asked 300 times each concurrently from cold make one upstream call', async () => {
    const app = douyinApp();
    const instances: TestHub[] = [];
    for (let i = 0; i < 3; i++) {
      instances.push(await createTestHub(target, { apps: [app], sim, instanceId: `dy-${i}` }));
    }
    try {
      const answers = await Promise.all(
        Array.from({ length: 900 }, (_, i) => token(instances[i % 3] as TestHub, app)),
      );
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(1);
      expect(new Set(answers.map((a) => a.accessToken)).size).toBe(1);
    } finally {
      await Promise.all(instances.map((h) => h.close()));
    }
  });

  it("maps Douyin's error envelope (HTTP 200, err_no) to a 502 naming the code", async () => {
    const app = douyinApp();
    const hub = await createTestHub(target, { apps: [app], sim });
    try {
      sim.sim.registerApp({ appId: app.appId, secret: 'another-secret' });
      const res = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({
        code: 'UPSTREAM_WECHAT',
        message: 'Douyin err_no 40017: bad secret',
        errcode: 40017,
      });
      expect(JSON.stringify(body)).not.toContain('another-secret');

      // A configuration error is held, not retried per request.
      const held = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
      expect(held.status).toBe(502);
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(1);

      const busy = douyinApp();
      const other = await createTestHub(target, { apps: [busy], sim });
      sim.sim.injectFault({ path: TOKEN_PATH, appId: busy.appId, errcode: -1, errmsg: 'busy' });
      const down = await other.app.request(`/v1/apps/${busy.name}/token`, { headers: AUTH });
      await other.close();
      expect(down.status).toBe(502);
      expect(((await down.json()) as { error: { message: string } }).error.message).toBe(
        'Douyin err_no -1: busy',
      );
    } finally {
      sim.sim.registerApp({ appId: app.appId, secret: app.appSecret ?? '' });
      await hub.close();
    }
  });

  it('invalidate refreshes once per 30 s per app; the replaced token keeps its 5 minutes', async () => {
    const app = douyinApp();
    const hub = await createTestHub(target, { apps: [app], sim });
    try {
      const first = await token(hub, app);
      const invalidate = (accessToken: string) =>
        post(hub, `/v1/apps/${app.name}/token/invalidate`, { accessToken });
      const r1 = await invalidate(first.accessToken);
      expect(r1.status).toBe(200);
      const second = (await r1.json()) as TokenBody & { error?: unknown };
      expect(second.accessToken).not.toBe(first.accessToken);
      expect(second.error).toBeUndefined();
      expect(sim.sim.douyin.isTokenValid(first.accessToken)).toBe(true);

      const r2 = await invalidate(second.accessToken);
      const held = (await r2.json()) as TokenBody & { error?: { code: string } };
      expect(held.accessToken).toBe(second.accessToken);
      expect(held.error?.code).toBe('RATE_LIMITED');
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(2);

      sim.sim.clock.advance(5 * 60_000);
      expect(sim.sim.douyin.isTokenValid(first.accessToken)).toBe(false);
      expect(sim.sim.douyin.isTokenValid(second.accessToken)).toBe(true);
    } finally {
      await hub.close();
    }
  });

  it('exchanges a tt.login code once with code2session v2', async () => {
    const app = douyinApp();
    const hub = await createTestHub(target, { apps: [app], sim });
    try {
      const code = sim.sim.douyin.issueLoginCode(app.appId, 'dy-openid-1', 'dy-union-1');
      const res = await post(hub, `/v1/apps/${app.name}/code2session`, { code });
      expect(res.status).toBe(200);
      const session = (await res.json()) as Record<string, string>;
      expect(session).toEqual({
        openid: 'dy-openid-1',
        unionid: 'dy-union-1',
        sessionKey: expect.stringMatching(/^[A-Za-z0-9+/=]{24}$/),
      });
      const again = await post(hub, `/v1/apps/${app.name}/code2session`, { code });
      expect(again.status).toBe(502);
      expect(((await again.json()) as { error: { errcode: number } }).error.errcode).toBe(40018);
    } finally {
      await hub.close();
    }
  });

  it("proxies to Douyin's API with the app token, retrying once after a dead-token err_no", async () => {
    const app = douyinApp();
    const hub = await createTestHub(target, { apps: [app], sim });
    try {
      const call = () =>
        post(hub, `/v1/proxy/${app.name}/${SHARE_CONFIG}`, {
          appid: app.appId,
          uniq_id: '12345678901234567890',
          type: 1,
        });
      const res = await call();
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ err_no: 0, err_tips: 'success', data: 'success' });
      const calls = sim.sim.douyin.shareConfigCalls.filter((c) => c.appId === app.appId);
      // The 20-digit id reached Douyin as sent (the body is not re-serialised).
      expect(calls).toEqual([{ appId: app.appId, uniqId: '12345678901234567890', type: 1 }]);

      const held = await token(hub, app);
      sim.sim.douyin.killToken(held.accessToken);
      const retried = await call();
      expect(retried.status).toBe(200);
      expect(((await retried.json()) as { err_no: number }).err_no).toBe(0);
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(2);
      expect(sim.sim.calls(`/douyin/${SHARE_CONFIG}`, app.appId)).toBe(3);
      const fresh = await token(hub, app);
      expect(fresh.accessToken).not.toBe(held.accessToken);
    } finally {
      await hub.close();
    }
  });

  it('refuses a proxied body with its own access_token, and Douyin token minting', async () => {
    const app = douyinApp();
    const hub = await createTestHub(target, { apps: [app], sim });
    try {
      const own = await post(hub, `/v1/proxy/${app.name}/${SHARE_CONFIG}`, {
        appid: app.appId,
        access_token: 'mine',
      });
      expect(own.status).toBe(400);
      const mint = await post(hub, `/v1/proxy/${app.name}/api/apps/v2/token`, {});
      expect(mint.status).toBe(403);
      expect(sim.sim.calls(`/douyin/${SHARE_CONFIG}`, app.appId)).toBe(0);
      const ticket = await hub.app.request(`/v1/apps/${app.name}/ticket`, { headers: AUTH });
      expect(ticket.status).toBe(400);
    } finally {
      await hub.close();
    }
  });

  it('the refresh pass renews a Douyin token only in its last 4 minutes, so the old one lives on', async () => {
    const app = douyinApp();
    const hub = await createTestHub(target, { apps: [app], sim });
    try {
      const old = await token(hub, app);
      const expiresAt = new Date(old.expiresAt).getTime();
      sim.sim.clock.set(expiresAt - 9 * 60_000);
      await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(1);

      sim.sim.clock.set(expiresAt - 3 * 60_000);
      await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(2);
      // The replaced token is cut to min(its expiry, now + 5 min): nothing lost.
      sim.sim.clock.set(expiresAt - 1_000);
      expect(sim.sim.douyin.isTokenValid(old.accessToken)).toBe(true);
    } finally {
      await hub.close();
    }
  });
});
