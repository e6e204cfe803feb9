import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import type { AppConfig } from '../../shared/config';
import { testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testWecomApp as wecomApp } from '../testing';

type TokenBody = { appId: string; accessToken: string; expiresAt: string };

const GETTOKEN = '/qyapi/cgi-bin/gettoken';

async function hubs(
  target: Parameters<typeof createTestHub>[0],
  n: number,
  apps: AppConfig[],
  sim: RunningSimulator,
) {
  const out: TestHub[] = [];
  for (let i = 0; i < n; i++)
    out.push(await createTestHub(target, { apps, sim, instanceId: `inst-${i}` }));
  return out;
}

async function token(hub: TestHub, app: AppConfig): Promise<TokenBody> {
  const res = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
  if (res.status !== 200) throw new Error(`token answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as TokenBody;
}

describe.each(testTargets())('WeCom app tokens on $name', (target) => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it('3 instances × 500 concurrent reads from cold make exactly one gettoken call', async () => {
    const app = wecomApp();
    const instances = await hubs(target, 3, [app], sim);
    try {
      const answers = await Promise.all(
        Array.from({ length: 1500 }, (_, i) => token(instances[i % 3] as TestHub, app)),
      );
      expect(sim.sim.calls(GETTOKEN, app.appId)).toBe(1);
      expect(new Set(answers.map((a) => a.accessToken)).size).toBe(1);
      expect(answers[0]?.appId).toBe(app.appId);
      expect(sim.sim.wecom.isValid(answers[0]?.accessToken ?? '')).toBe(true);
      // Never a WeChat call for a WeCom app.
      expect(sim.sim.calls('/cgi-bin/token') + sim.sim.calls('/cgi-bin/stable_token')).toBe(0);
    } finally {
      await Promise.all(instances.map((h) => h.close()));
    }
  });

  it("a wrong corpSecret is WeCom's 40001 as a 502 naming the errcode, and is not retried per request", async () => {
    const app = wecomApp();
    const hub = await createTestHub(target, { sim });
    // WeCom knows the app with its real secret; the hub was given another one.
    sim.sim.wecom.register({ corpId: app.appId, corpSecret: app.appSecret ?? '' });
    await hub.deps.store.apps.upsert(
      { ...app, appSecret: 'not-the-secret' },
      'file',
      sim.sim.clock.now(),
    );
    try {
      const first = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
      expect(first.status).toBe(502);
      const body = (await first.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('UPSTREAM_WECHAT');
      expect(body.error.message).toContain('40001');
      expect(body.error.message).not.toContain('not-the-secret');
      const again = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
      expect(again.status).toBe(502);
      expect(sim.sim.calls(GETTOKEN, app.appId)).toBe(1);
    } finally {
      await hub.close();
    }
  });

  it('an unknown corp id is 40013; a wecom app without corpSecret is 409 and calls nothing', async () => {
    const unknown = wecomApp();
    const noSecret = wecomApp({ appSecret: undefined });
    const hub = await createTestHub(target, { sim });
    await hub.deps.store.apps.upsert(unknown, 'file', sim.sim.clock.now());
    await hub.deps.store.apps.upsert(noSecret, 'file', sim.sim.clock.now());
    try {
      const bad = await hub.app.request(`/v1/apps/${unknown.name}/token`, { headers: AUTH });
      expect(bad.status).toBe(502);
      expect(await bad.text()).toContain('40013');
      const missing = await hub.app.request(`/v1/apps/${noSecret.name}/token`, { headers: AUTH });
      expect(missing.status).toBe(409);
      expect(await missing.text()).toContain('corpSecret');
      expect(sim.sim.calls(GETTOKEN, noSecret.appId)).toBe(0);
    } finally {
      await hub.close();
    }
  });

  it('invalidate-by-value: 50 reports of the same dead token fetch one new token; a stale report fetches none', async () => {
    const app = wecomApp();
    const instances = await hubs(target, 2, [app], sim);
    try {
      const dead = (await token(instances[0] as TestHub, app)).accessToken;
      sim.sim.wecom.kill(dead);
      const report = (h: TestHub, accessToken: string) =>
        h.app.request(`/v1/apps/${app.name}/token/invalidate`, {
          method: 'POST',
          headers: { ...AUTH, 'content-type': 'application/json' },
          body: JSON.stringify({ accessToken }),
        });
      const answers = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const res = await report(instances[i % 2] as TestHub, dead);
          expect(res.status).toBe(200);
          return (await res.json()) as TokenBody;
        }),
      );
      expect(sim.sim.calls(GETTOKEN, app.appId)).toBe(2);
      const fresh = new Set(answers.map((a) => a.accessToken));
      expect(fresh.size).toBe(1);
      expect(fresh.has(dead)).toBe(false);
      expect(sim.sim.wecom.isValid([...fresh][0] ?? '')).toBe(true);
      // The dead value reported again later: the current token, no call.
      expect((await report(instances[1] as TestHub, dead)).status).toBe(200);
      expect(sim.sim.calls(GETTOKEN, app.appId)).toBe(2);
    } finally {
      await Promise.all(instances.map((h) => h.close()));
    }
  });

  it('an HTTP error page from WeCom is a 502, no answer in time a 504 (faults on gettoken)', async () => {
    const app = wecomApp();
    const hub = await createTestHub(target, { apps: [app], sim, wechatTimeoutMs: 300 });
    try {
      sim.sim.injectFault({ path: GETTOKEN, appId: app.appId, status: 502 });
      const bad = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
      expect(bad.status).toBe(502);
      hub.deps.tokens.forget();
      sim.sim.clock.advance(6_000);
      sim.sim.injectFault({ path: GETTOKEN, appId: app.appId, delayMs: 1_000 });
      const slow = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
      expect(slow.status).toBe(504);
    } finally {
      await hub.close();
    }
  });
});

describe.each(testTargets())('WeCom tokens over 24 simulated hours on $name', (target) => {
  it('3 instances, a refresh pass every 2 minutes on each: one gettoken per lifetime, never an expired token served', async () => {
    const sim = await startSimulator();
    const app = wecomApp();
    const instances = await hubs(target, 3, [app], sim);
    const stored = new Set<string>();
    try {
      for (let minute = 0; minute < 24 * 60; minute += 2) {
        await Promise.all(
          instances.map((h) => h.app.request('/v1/refresh', { method: 'POST', headers: AUTH })),
        );
        const row = await (instances[0] as TestHub).deps.store.credentials.get({
          owner: `app:${app.name}`,
          kind: 'access_token',
        });
        if (row?.value !== undefined) stored.add(row.value);
        const served = await Promise.all(instances.map((h) => token(h, app)));
        for (const s of served) {
          if (!sim.sim.wecom.isValid(s.accessToken)) {
            throw new Error(`minute ${minute}: served a token WeCom no longer takes`);
          }
        }
        sim.sim.clock.advance(120_000);
      }
      const calls = sim.sim.calls(GETTOKEN, app.appId);
      expect(stored.size).toBe(calls);
      // 600 s ahead of a 7,200 s life: a 6,600 s cycle (a pass may land up to 2 minutes late).
      expect(calls).toBeLessThanOrEqual(1 + Math.floor(86_400 / 6_600));
      expect(calls).toBeGreaterThanOrEqual(Math.floor(86_400 / 7_200));
    } finally {
      await Promise.all(instances.map((h) => h.close()));
      await sim.close();
    }
  }, 300_000);
});
