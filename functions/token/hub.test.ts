import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import type { AppConfig } from '../../shared/config';
import { testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

type TokenBody = { accessToken: string; expiresAt: string };

async function hubs(
  target: Parameters<typeof createTestHub>[0],
  n: number,
  apps: AppConfig[],
  sim: RunningSimulator,
  opts = {},
) {
  const out: TestHub[] = [];
  for (let i = 0; i < n; i++)
    out.push(await createTestHub(target, { apps, sim, instanceId: `inst-${i}`, ...opts }));
  return out;
}

async function token(hub: TestHub, app: AppConfig): Promise<TokenBody> {
  const res = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
  if (res.status !== 200) throw new Error(`token answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as TokenBody;
}

const tokenPath = (app: AppConfig) =>
  app.tokenMode === 'classic' ? '/cgi-bin/token' : '/cgi-bin/stable_token';

describe.each(testTargets())('several hub instances on $name', (target) => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it('20 instances asked 1,000 times concurrently from cold make exactly one upstream call', async () => {
    const app = testApp({ tokenMode: 'classic' });
    const instances = await hubs(target, 20, [app], sim);
    try {
      const answers = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => token(instances[i % 20] as TestHub, app)),
      );
      expect(sim.sim.calls('/cgi-bin/token', app.appId)).toBe(1);
      expect(new Set(answers.map((a) => a.accessToken)).size).toBe(1);
      expect(answers.every((a) => sim.sim.isTokenValid(a.accessToken))).toBe(true);
    } finally {
      await Promise.all(instances.map((h) => h.close()));
    }
  });

  it('100 concurrent invalidate reports of the same dead token cause exactly one refresh', async () => {
    const app = testApp({ tokenMode: 'classic' });
    const instances = await hubs(target, 5, [app], sim);
    try {
      const dead = (await token(instances[0] as TestHub, app)).accessToken;
      const before = sim.sim.calls('/cgi-bin/token', app.appId);
      const answers = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const res = await (instances[i % 5] as TestHub).app.request(
            `/v1/apps/${app.name}/token/invalidate`,
            {
              method: 'POST',
              headers: { ...AUTH, 'content-type': 'application/json' },
              body: JSON.stringify({ accessToken: dead }),
            },
          );
          expect(res.status).toBe(200);
          return (await res.json()) as TokenBody;
        }),
      );
      expect(sim.sim.calls('/cgi-bin/token', app.appId)).toBe(before + 1);
      const fresh = new Set(answers.map((a) => a.accessToken));
      expect(fresh.size).toBe(1);
      expect(fresh.has(dead)).toBe(false);
    } finally {
      await Promise.all(instances.map((h) => h.close()));
    }
  });

  it('a refresher killed while holding the lease is taken over once the lease expires', async () => {
    const app = testApp({ tokenMode: 'classic' });
    const [b] = await hubs(target, 1, [app], sim, {
      tokenOptions: { leaseMs: 10_000, waitMs: 5_000 },
    });
    if (b === undefined) throw new Error('no hub');
    try {
      const key = { owner: `app:${app.name}`, kind: 'access_token' };
      await b.deps.store.credentials.ensure(key, sim.sim.clock.now());
      expect(
        await b.deps.store.credentials.claimLease(
          key,
          'killed-instance:1',
          sim.sim.clock.now(),
          10_000,
        ),
      ).toBe(true);
      const started = performance.now();
      setTimeout(() => sim.sim.clock.advance(10_001), 300);
      const got = await token(b, app);
      const waited = performance.now() - started;
      expect(sim.sim.isTokenValid(got.accessToken)).toBe(true);
      expect(sim.sim.calls('/cgi-bin/token', app.appId)).toBe(1);
      expect(waited).toBeLessThan(5_000);
    } finally {
      await b.close();
    }
  });

  it('a caller waits at most the documented bound, then gets a 503, while a live lease is held', async () => {
    const app = testApp({ tokenMode: 'classic' });
    const [b] = await hubs(target, 1, [app], sim, { tokenOptions: { waitMs: 400 } });
    if (b === undefined) throw new Error('no hub');
    try {
      const key = { owner: `app:${app.name}`, kind: 'access_token' };
      await b.deps.store.credentials.ensure(key, sim.sim.clock.now());
      await b.deps.store.credentials.claimLease(
        key,
        'slow-instance:1',
        sim.sim.clock.now(),
        60_000,
      );
      const res = await b.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE');
      expect(sim.sim.calls('/cgi-bin/token', app.appId)).toBe(0);
    } finally {
      await b.close();
    }
  });

  it('reports configuration errors in the refresh summary without calling WeChat again', async () => {
    const app = testApp({ tokenMode: 'classic' });
    const [h] = await hubs(target, 1, [app], sim);
    if (h === undefined) throw new Error('no hub');
    try {
      sim.sim.registerApp({
        appId: app.appId,
        secret: app.appSecret ?? '',
        ipWhitelist: ['198.51.100.1'],
      });
      const pass = async () =>
        (await (await h.app.request('/v1/refresh', { method: 'POST', headers: AUTH })).json()) as {
          failed: { app: string; credential: string; error: string }[];
        };
      const first = (await pass()).failed.find((f) => f.app === app.name);
      expect(first?.credential).toBe('access_token');
      expect(first?.error).toMatch(/^errcode 40164: invalid ip 203\.0\.113\.7 .*whitelist/);
      const second = (await pass()).failed.find((f) => f.app === app.name);
      expect(second?.error).toContain('errcode 40164');
      expect(second?.error).toContain('next attempt');
      expect(sim.sim.calls('/cgi-bin/token', app.appId)).toBe(1);
    } finally {
      sim.sim.registerApp({ appId: app.appId, secret: app.appSecret ?? '' });
      await h.close();
    }
  });
});

describe.each(testTargets())(
  '24 simulated hours, 5 instances, timer every minute, on $name',
  (target) => {
    for (const mode of ['classic', 'stable'] as const) {
      it(`${mode} mode: one upstream call per cycle, never a wasted one, never a killed token served`, async () => {
        const sim = await startSimulator();
        const app = testApp({ tokenMode: mode });
        const instances = await hubs(target, 5, [app], sim);
        const stored = new Set<string>();
        try {
          for (let minute = 0; minute < 24 * 60; minute++) {
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
              if (!sim.sim.isTokenValid(s.accessToken))
                throw new Error(`minute ${minute}: served a killed token`);
            }
            sim.sim.clock.advance(60_000);
          }
          const calls = sim.sim.calls(tokenPath(app), app.appId);
          // Every upstream call produced a value different from the stored one...
          expect(stored.size).toBe(calls);
          // ...and there was one per cycle: classic refreshes 600 s ahead (a 6,600 s cycle),
          // stable inside its last 240 s (a cycle of about 6,960-7,020 s).
          const cycle = mode === 'classic' ? 6_600 : 6_960;
          expect(calls).toBeLessThanOrEqual(1 + Math.floor(86_400 / cycle));
          expect(calls).toBeGreaterThanOrEqual(Math.floor(86_400 / 7_200));
        } finally {
          await Promise.all(instances.map((h) => h.close()));
          await sim.close();
        }
      }, 300_000);
    }
  },
);
