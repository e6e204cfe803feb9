import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import type { AppConfig } from '../../shared/config';
import { createLogger } from '../../shared/http/log';
import { listen, type RunningServer } from '../../shared/platform/server';
import { testTargets } from '../../shared/store/testing';
import { testComponentApp } from '../component-fixture';
import { AUTH, createTestHub, type TestHub } from '../testing';

const COMPONENT_TOKEN = '/cgi-bin/component/api_component_token';
const AUTHORIZER_TOKEN = '/cgi-bin/component/api_authorizer_token';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const MINUTE = 60_000;
/**
 * Tokens live 2 h and the minute pass renews one once less than 10 minutes are left: 111 minutes
 * after it was fetched (at 110 exactly 10 are left), so one renewal every 111 minutes.
 */
const RENEWAL_EVERY_MINUTES = 111;

type Summary = { checked: number; refreshed: number; failed: { app: string; error: string }[] };

describe.each(testTargets())('a simulated day of one component on 3 hubs on $name', (target) => {
  let sim: RunningSimulator;
  const hubs: { hub: TestHub; server: RunningServer }[] = [];
  const app: AppConfig = testComponentApp();
  const authorizers = ['wxa1000000000000001', 'wxa1000000000000002', 'wxa1000000000000003'];
  authorizers.push('wxa1000000000000004', 'wxa1000000000000005');

  beforeAll(async () => {
    sim = await startSimulator();
    for (let i = 0; i < 3; i++) {
      const hub = await createTestHub(target, { apps: [app], sim, instanceId: `hub-${i}` });
      hubs.push({ hub, server: await listen(hub.app, 0, createLogger('silent'), '127.0.0.1') });
    }
  });
  afterAll(async () => {
    for (const h of hubs) {
      await h.server.close();
      await h.hub.close();
    }
    await sim.close();
  });

  it('over 24 simulated hours, with passes every minute on each hub, each token is fetched once per lifetime', async () => {
    // Over the simulator's HTTP: its control routes move its clock (the hubs share it) and push
    // a ticket to the auth-event URL every 10 simulated minutes.
    const control = async (path: string, body: unknown) => {
      const res = await fetch(`${sim.url}/__sim${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      return res.json() as Promise<Record<string, unknown>>;
    };
    await control('/components', {
      appId: app.appId,
      secret: app.appSecret,
      token: app.token,
      encodingAesKey: AES_KEY,
      eventUrl: `${hubs[0]?.server.url}/wx/${app.name}/component/event`,
    });
    await control('/clock', { advanceMs: 1000 }); // the first ticket push
    for (const id of authorizers) {
      const pushed = await control('/components/authorize', {
        appId: app.appId,
        authorizerAppId: id,
      });
      expect(pushed.body).toBe('success');
    }
    // The exchanges fetched the component token once and each authorizer's first token.
    expect(sim.sim.calls(COMPONENT_TOKEN, app.appId)).toBe(1);
    expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(0);

    const failed: Summary['failed'] = [];
    const minutes = 24 * 60;
    for (let minute = 1; minute <= minutes; minute++) {
      await control('/clock', { advanceMs: MINUTE });
      // The three instances' timers fire together: their passes run concurrently.
      const summaries = await Promise.all(
        hubs.map(async ({ hub }) => {
          const res = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
          expect(res.status).toBe(200);
          return (await res.json()) as Summary;
        }),
      );
      for (const s of summaries) failed.push(...s.failed.filter((f) => f.app === app.name));
    }
    expect(failed).toEqual([]);
    const renewals = Math.floor(minutes / RENEWAL_EVERY_MINUTES);
    expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(renewals * authorizers.length);
    expect(sim.sim.calls(COMPONENT_TOKEN, app.appId)).toBe(1 + renewals);
    // Every authorizer's served token works, served from the store without another call.
    for (const [i, id] of authorizers.entries()) {
      const hub = hubs[i % 3]?.hub;
      const res = await hub?.app.request(`/v1/components/${app.name}/authorizers/${id}/token`, {
        headers: AUTH,
      });
      expect(res?.status).toBe(200);
      const body = (await res?.json()) as { accessToken: string };
      expect(sim.sim.isTokenValid(body.accessToken)).toBe(true);
    }
    expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(renewals * authorizers.length);
  }, 600_000);
});
