import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../dev/simulator';
import { startSimulator } from '../dev/simulator';
import { testTargets, uniqueName } from '../shared/store/testing';
import { componentFixture } from './component-fixture';
import { AUTH, createTestHub, type TestHub, testApp } from './testing';
import { type Received, startTarget } from './wx-callback/testing';

interface Posted {
  msgtype: string;
  markdown: { content: string };
  alert?: { state: string; key: string; kind: string; app: string };
}

const posted = (r: Received[]) => r.map((x) => x.body as Posted);

describe.each(testTargets())('alerts (WXHUB_ALERT_WEBHOOK) on $name', (target) => {
  let sim: RunningSimulator;
  let receiver: Awaited<ReturnType<typeof startTarget>>;
  beforeAll(async () => {
    sim = await startSimulator();
    receiver = await startTarget();
  });
  afterAll(async () => {
    await receiver.close();
    await sim.close();
  });

  const pass = async (hub: TestHub) => {
    const res = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
    expect(res.status).toBe(200);
  };
  /** What the webhook got since `from`, about `app`. */
  const about = (from: number, app: string) =>
    posted(receiver.received.slice(from)).filter((p) => p.alert?.app === app);

  it('a configuration error fires once across instances, and clears once when fixed', async () => {
    const blocked = testApp();
    const env = { WXHUB_ALERT_WEBHOOK: `${receiver.url}/hook?key=webhook-key-123` };
    const a = await createTestHub(target, { apps: [blocked], sim, env });
    const b = await createTestHub(target, { apps: [blocked], sim, env });
    try {
      const from = receiver.received.length;
      sim.sim.injectFault({
        path: '/cgi-bin/token',
        appId: blocked.appId,
        errcode: 40164,
        errmsg: 'invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist',
      });
      await pass(a);
      await pass(b);
      await pass(a);
      const fired = about(from, blocked.name);
      expect(fired).toHaveLength(1);
      expect(fired[0]?.alert).toMatchObject({
        state: 'firing',
        kind: 'credential',
        key: `credential:${blocked.name}/access_token`,
      });
      expect(fired[0]?.msgtype).toBe('markdown');
      expect(fired[0]?.markdown.content).toContain('40164');
      expect(fired[0]?.markdown.content).toContain('203.0.113.7');
      const all = JSON.stringify(receiver.received.slice(from).map((r) => r.body));
      expect(all).not.toContain(blocked.appSecret ?? '-');

      // Fixed (the IP whitelisted, the credential refreshed): said resolved once.
      sim.sim.clock.advance(31 * 60_000);
      const ok = await a.app.request(`/v1/apps/${blocked.name}/token`, { headers: AUTH });
      expect(ok.status).toBe(200);
      await pass(b);
      await pass(a);
      const after = about(from, blocked.name);
      expect(after.map((p) => p.alert?.state)).toEqual(['firing', 'resolved']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a stale ticket and a dead delivery fire once each and clear; a WeCom robot gets its own shape', async () => {
    const oa = testApp();
    const fixture = await componentFixture(target, sim);
    const robot = `${receiver.url}/cgi-bin/webhook/send?key=robot-key-456`;
    const hub = await createTestHub(target, {
      apps: [oa],
      sim,
      env: { WXHUB_ALERT_WEBHOOK: robot },
    });
    try {
      const from = receiver.received.length;
      const key = uniqueName('dead');
      const at = hub.deps.clock.now();
      await hub.deps.store.messages.insert(
        {
          app: oa.name,
          dedupKey: key,
          receivedAt: at,
          format: 'xml',
          encrypted: false,
          raw: '<xml/>',
          parsed: {},
        },
        [
          {
            owner: oa.name,
            targetUrl: 'http://127.0.0.1:9/hook',
            idempotencyKey: key,
            payload: '{}',
            maxAttempts: 1,
            nextAttemptAt: at,
          },
        ],
        at,
      );
      await pass(hub);
      await pass(hub);
      const contents = () =>
        posted(receiver.received.slice(from)).map((p) => {
          // WeCom's robot takes exactly its markdown message: nothing else in the body.
          expect(Object.keys(p).sort()).toEqual(['markdown', 'msgtype']);
          return p.markdown.content;
        });
      const deadAlerts = () => contents().filter((c) => c.includes(`of ${oa.name} dead`));
      expect(deadAlerts()).toHaveLength(1);

      // 13 hours without a ticket push.
      sim.sim.clock.advance(13 * 3600_000);
      await pass(hub);
      await pass(hub);
      const ticketAlerts = () =>
        contents().filter((c) => c.includes(`component_verify_ticket of ${fixture.app.name}`));
      expect(ticketAlerts()).toHaveLength(1);
      expect(ticketAlerts()[0]).toContain('13 h old');

      // The dead delivery is discarded and a new ticket arrives: both clear, once each.
      const [dead] = await hub.deps.store.outbox.list({ owner: oa.name, status: 'dead' });
      expect(dead).toBeDefined();
      await hub.deps.store.outbox.discard(dead?.id ?? 0, hub.deps.clock.now());
      await sim.sim.pushTicket(fixture.app.appId, fixture.eventUrl());
      await pass(hub);
      await pass(hub);
      const resolved = contents().filter((c) => c.startsWith('**wxhub resolved**'));
      expect(resolved.filter((c) => c.includes(`ticket:${fixture.app.name}`))).toHaveLength(1);
      expect(resolved.filter((c) => c.includes(`delivery:${oa.name}`))).toHaveLength(1);
      // The robot's key is in no log line's reach: the request went to its URL, not into a body.
      expect(JSON.stringify(receiver.received.slice(from).map((r) => r.body))).not.toContain(
        'robot-key-456',
      );
    } finally {
      await hub.close();
      await fixture.close();
    }
  });

  it('a failed webhook call is tried again by the next pass', async () => {
    const blocked = testApp();
    const hub = await createTestHub(target, {
      apps: [blocked],
      sim,
      env: { WXHUB_ALERT_WEBHOOK: 'http://127.0.0.1:9/hook' },
    });
    try {
      sim.sim.injectFault({ path: '/cgi-bin/token', appId: blocked.appId, errcode: 40125 });
      await pass(hub);
      const key = `credential:${blocked.name}/access_token`;
      expect((await hub.deps.store.alerts.list()).some((r) => r.key === key)).toBe(false);
    } finally {
      await hub.close();
    }
  });

  // Last: this hub's key opens none of the rows the file's other hubs sealed.
  it('an app secret that does not open (sealed under a removed key) fires once', async () => {
    const sealed = testApp();
    const old = await createTestHub(target, { apps: [sealed], sim });
    await old.close();
    const hub = await createTestHub(target, {
      apps: [],
      sim,
      secretKeys: [Buffer.from('the-new-32-byte-secret-at-rest!!', 'utf8')],
      env: { WXHUB_ALERT_WEBHOOK: `${receiver.url}/hook` },
    });
    try {
      const from = receiver.received.length;
      await pass(hub);
      await pass(hub);
      const fired = about(from, sealed.name);
      expect(fired).toHaveLength(1);
      expect(fired[0]?.alert).toMatchObject({
        state: 'firing',
        key: `credential:${sealed.name}/access_token`,
      });
      expect(fired[0]?.markdown.content).toContain('UNREADABLE_SECRET');
      expect(JSON.stringify(fired)).not.toContain(sealed.appSecret ?? '-');
    } finally {
      await hub.close();
    }
  });
});
