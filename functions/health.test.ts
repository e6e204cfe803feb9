import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../dev/simulator';
import { startSimulator } from '../dev/simulator';
import { testTargets, uniqueName } from '../shared/store/testing';
import { componentFixture } from './component-fixture';
import { AUTH, createTestHub, type TestHub, testApp } from './testing';

interface Detail {
  status: string;
  db: string;
  write: string;
  credentialsInError: { app: string; kind: string; code: string | null; config: boolean }[];
  oldestTicketAgeSeconds: number | null;
  tickets: { app: string; ageSeconds: number | null; stale: boolean }[];
  outbox: { dead: number; pending: number };
}

async function detail(hub: TestHub): Promise<{ status: number; body: Detail }> {
  const res = await hub.app.request('/healthz?detail=1', { headers: AUTH });
  return { status: res.status, body: (await res.json()) as Detail };
}

/** A message with one delivery to a closed port that has one attempt: dead after one drain. */
async function deadDelivery(hub: TestHub, owner: string): Promise<void> {
  const at = hub.deps.clock.now();
  const key = uniqueName('dead');
  await hub.deps.store.messages.insert(
    {
      app: owner,
      dedupKey: key,
      receivedAt: at,
      format: 'xml',
      encrypted: false,
      raw: '<xml/>',
      parsed: {},
    },
    [
      {
        owner,
        targetUrl: 'http://127.0.0.1:9/hook',
        idempotencyKey: key,
        payload: '{}',
        maxAttempts: 1,
        nextAttemptAt: at,
      },
    ],
    at,
  );
}

describe.each(testTargets())('GET /healthz?detail=1 on $name', (target) => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it('stays the cheap check without detail, and asks internal auth for the detail', async () => {
    const hub = await createTestHub(target, { sim });
    try {
      const plain = await hub.app.request('/healthz');
      expect(plain.status).toBe(200);
      expect(await plain.json()).toEqual({ status: 'ok', db: 'ok' });
      const refused = await hub.app.request('/healthz?detail=1');
      expect(refused.status).toBe(401);
      expect(await refused.text()).not.toContain('credentialsInError');
    } finally {
      await hub.close();
    }
  });

  it('answers 503 when a console key cannot be checked (database down), never the detail', async () => {
    const hub = await createTestHub(target, { sim });
    const admin = hub.deps.store.admin;
    const lookup = admin.apiKeyByHash;
    admin.apiKeyByHash = () => Promise.reject(new Error('the database is down'));
    try {
      const res = await hub.app.request('/healthz?detail=1', {
        headers: { authorization: `Bearer wxk_${'a'.repeat(43)}` },
      });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    } finally {
      admin.apiKeyByHash = lookup;
      await hub.close();
    }
  });

  it('names credentials in error with their codes, ticket ages and dead deliveries', async () => {
    const oa = testApp();
    const blocked = testApp();
    const fixture = await componentFixture(target, sim);
    const hub = await createTestHub(target, { apps: [oa, blocked], sim });
    try {
      const first = await detail(hub);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ db: 'ok', write: 'ok' });
      const ticket = first.body.tickets.find((t) => t.app === fixture.app.name);
      expect(ticket).toMatchObject({ stale: false });
      expect(ticket?.ageSeconds).toBeLessThan(60);
      expect(first.body.oldestTicketAgeSeconds).toBeGreaterThanOrEqual(ticket?.ageSeconds ?? 0);

      // WeChat refuses the server's IP: a configuration error with the IP in WeChat's message.
      sim.sim.injectFault({
        path: '/cgi-bin/token',
        appId: blocked.appId,
        errcode: 40164,
        errmsg: 'invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist',
      });
      const token = await hub.app.request(`/v1/apps/${blocked.name}/token`, { headers: AUTH });
      expect(token.status).toBe(502);
      await deadDelivery(hub, oa.name);
      await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });

      const now = await detail(hub);
      expect(now.status).toBe(200);
      expect(now.body.status).toBe('degraded');
      const failing = now.body.credentialsInError.find((c) => c.app === blocked.name);
      expect(failing).toMatchObject({ kind: 'access_token', code: '40164', config: true });
      expect(JSON.stringify(failing)).toContain('203.0.113.7');
      expect(now.body.credentialsInError.some((c) => c.app === oa.name)).toBe(false);
      expect(now.body.outbox.dead).toBeGreaterThanOrEqual(1);
      // No secret of either app in the answer.
      const text = JSON.stringify(now.body);
      expect(text).not.toContain(blocked.appSecret ?? '-');
      expect(text).not.toContain(oa.appSecret ?? '-');
    } finally {
      await hub.close();
      await fixture.close();
    }
  });

  if (target.name === 'sqlite') {
    it('notices a deleted SQLite file with its write probe: 503', async () => {
      const own = {
        ...target,
        config: {
          dialect: 'sqlite' as const,
          path: `${target.config.dialect === 'sqlite' ? target.config.path : ''}.${uniqueName('gone')}.db`,
        },
      };
      const hub = await createTestHub(own, { sim });
      try {
        expect((await detail(hub)).status).toBe(200);
        rmSync(own.config.path);
        const gone = await detail(hub);
        expect(gone.status).toBe(503);
        expect(gone.body).toMatchObject({
          status: 'unavailable',
          write: 'failed: the database file is gone',
        });
        // The cheap check still answers from the open connection.
        expect((await hub.app.request('/healthz')).status).toBe(200);
      } finally {
        await hub.close();
      }
    });
  }
});
