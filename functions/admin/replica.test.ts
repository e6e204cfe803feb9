import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import { createLogger } from '../../shared/http/log';
import type { NewCallbackMessage } from '../../shared/store';
import {
  type ReplicatedDatabase,
  type ReplicationPair,
  replicatedDatabase,
  replicationPair,
  startRelay,
} from '../../shared/store/replica-testing';
import { uniqueName } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

// The read replica (DATABASE_READ_URL) against a real one: two MariaDB servers replicating
// through the binary log (.ci/mariadb-replica.sh; CI sets TEST_MYSQL_PRIMARY_URL and
// TEST_MYSQL_REPLICA_URL). Queries on the replica are counted by MariaDB itself
// (USER_STATISTICS of a user only the hub's reader logs in as).

const BASE = 'http://localhost';
const PASSWORD = 'correct horse battery staple';
const ADMIN = 'replica-admin';

type Json = Record<string, unknown>;

/** A collecting logger: every line, as parsed JSON. */
function collector() {
  const lines: Record<string, unknown>[] = [];
  const text: string[] = [];
  const log = createLogger('info', {
    write: (l: string) => {
      text.push(l);
      lines.push(JSON.parse(l) as Record<string, unknown>);
    },
  });
  const about = (word: string) => lines.filter((l) => String(l.msg).includes(word));
  return { log, text, about };
}

/** A signed-in console on `hub`: GETs its admin API with the session cookie. */
async function consoleOf(hub: TestHub) {
  const login = await hub.app.request(`${BASE}/admin/api/login`, {
    method: 'POST',
    headers: { origin: BASE, 'content-type': 'application/json' },
    body: JSON.stringify({ user: ADMIN, password: PASSWORD }),
  });
  expect(login.status).toBe(204);
  const cookie = /wxhub_session=[^;]*/.exec(login.headers.get('set-cookie') ?? '')?.[0] ?? '';
  return async <T = Json>(path: string): Promise<T> => {
    const res = await hub.app.request(`${BASE}/admin/api/${path}`, {
      headers: { origin: BASE, cookie },
    });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
}

/** A stored push of `app`. */
function push(app: string, receivedAt: number): NewCallbackMessage {
  return {
    app,
    dedupKey: uniqueName('d'),
    receivedAt,
    format: 'xml',
    encrypted: false,
    raw: '<xml/>',
    parsed: {},
    msgType: 'text',
  };
}

describe('the replication pair', () => {
  it('is required on CI, so the replica tests never silently skip there', () => {
    const saved = { ...process.env };
    try {
      delete process.env.TEST_MYSQL_PRIMARY_URL;
      delete process.env.TEST_MYSQL_REPLICA_URL;
      process.env.CI = 'true';
      expect(() => replicationPair()).toThrow(/TEST_MYSQL_PRIMARY_URL/);
      process.env.CI = '';
      expect(replicationPair()).toBeUndefined();
      process.env.TEST_MYSQL_PRIMARY_URL = 'mysql://a:b@127.0.0.1:1/x';
      process.env.TEST_MYSQL_REPLICA_URL = 'mysql://a:b@127.0.0.1:2/x';
      expect(replicationPair()).toEqual({
        primary: 'mysql://a:b@127.0.0.1:1/x',
        replica: 'mysql://a:b@127.0.0.1:2/x',
      });
    } finally {
      process.env = saved;
    }
  });
});

const pairs: ReplicationPair[] = [];
const pair = replicationPair();
if (pair !== undefined) pairs.push(pair);

describe.each(pairs)('a hub with a real read replica', (p) => {
  let sim: RunningSimulator;
  let db: ReplicatedDatabase;
  let hub: TestHub;
  const logs = collector();
  const app = testApp({ tokenMode: 'classic' });
  const env = { WXHUB_ADMIN_USER: ADMIN, WXHUB_ADMIN_PASSWORD: PASSWORD };
  beforeAll(async () => {
    sim = await startSimulator();
    db = await replicatedDatabase(p);
    hub = await createTestHub(db.target, { apps: [app], sim, env, log: logs.log });
    await db.caughtUp();
  });
  afterAll(async () => {
    await hub?.close();
    await sim?.close();
    await db?.drop();
  });

  it('counts a statement on the replica once it has finished, not while it runs', async () => {
    const config = db.target.config;
    const readUrl = new URL(config.dialect === 'mysql' ? (config.readUrl ?? '') : '');
    const reader = await createConnection(readUrl.toString());
    const watcher = await createConnection(p.replica);
    try {
      const before = await db.replicaSelects();
      const running = reader.query('SELECT SLEEP(0.3) AS s');
      // Until the replica runs it: USER_STATISTICS counts it only when it ends.
      for (;;) {
        const [rows] = await watcher.query(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ? AND INFO LIKE 'SELECT SLEEP%'",
          [decodeURIComponent(readUrl.username)],
        );
        if (Number((rows as { n: number | string }[])[0]?.n) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(await db.replicaSelects()).toBe(before + 1);
      await running;
    } finally {
      await reader.end();
      await watcher.end();
    }
  });

  it('serves the console from the replica (counted there) and never touches it for a token refresh', async () => {
    const get = await consoleOf(hub);
    await hub.deps.store.messages.insert(push(app.name, sim.sim.clock.now()), [], 1);
    await db.caughtUp();

    const before = await db.replicaSelects();
    const apps = await get<{ apps: { name: string }[] }>('apps');
    expect(apps.apps.map((a) => a.name)).toContain(app.name);
    const messages = await get<{ messages: { app: string }[] }>(`messages?app=${app.name}`);
    expect(messages.messages.map((m) => m.app)).toEqual([app.name]);
    await get('dashboard');
    await get('credentials');
    await get('outbox?status=dead');
    await get('audit');
    const afterConsole = await db.replicaSelects();
    // apps, messages, 51 dashboard reads, credentials, outbox, audit.
    expect(afterConsole - before).toBeGreaterThanOrEqual(56);

    // The credential path: a first token (a refresh), a refused one replaced, a refresh pass.
    const token = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
    expect(token.status).toBe(200);
    const first = (await token.json()) as { accessToken: string };
    const invalidated = await hub.app.request(`/v1/apps/${app.name}/token/invalidate`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ accessToken: first.accessToken }),
    });
    expect(invalidated.status).toBe(200);
    const second = (await invalidated.json()) as { accessToken: string };
    expect(second.accessToken).not.toBe(first.accessToken);
    const pass = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
    expect(pass.status).toBe(200);
    expect(await db.replicaSelects()).toBe(afterConsole);
    expect(logs.about('read replica')).toEqual([]);
  });

  it('shows lag in the console only: a write is read back at once on the credential path', async () => {
    const get = await consoleOf(hub);
    const other = await createTestHub(db.target, { sim, env, instanceId: 'other-instance' });
    try {
      const current = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
      const old = (await current.json()) as { accessToken: string };
      await db.caughtUp();
      await db.pauseApplying();

      // A push and a new token, written on the primary while the replica applies nothing (a
      // second report within 30 s of the first would be held back).
      sim.sim.clock.advance(31_000);
      const late = push(app.name, sim.sim.clock.now());
      await hub.deps.store.messages.insert(late, [], 1);
      const replaced = await hub.app.request(`/v1/apps/${app.name}/token/invalidate`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ accessToken: old.accessToken }),
      });
      const fresh = (await replaced.json()) as { accessToken: string };
      expect(fresh.accessToken).not.toBe(old.accessToken);

      // Another instance (nothing cached) serves the new token: read from the primary.
      const seen = await other.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
      expect(seen.status).toBe(200);
      expect(((await seen.json()) as { accessToken: string }).accessToken).toBe(fresh.accessToken);

      // The console lags: the push is not there yet, the credential shows its old version.
      const lagging = await get<{ messages: { id: number }[] }>(`messages?app=${app.name}`);
      expect(lagging.messages).toHaveLength(1);
      const owner = `app:${app.name}`;
      const version = async () => {
        const rows = await get<{ credentials: { kind: string; version: number }[] }>(
          `credentials?owner=${encodeURIComponent(owner)}&kind=access_token`,
        );
        return rows.credentials[0]?.version;
      };
      const stored = await hub.deps.store.credentials.get({ owner, kind: 'access_token' });
      expect(await version()).toBe((stored?.version ?? 0) - 1);

      await db.resumeApplying();
      await db.caughtUp();
      const caught = await get<{ messages: { id: number }[] }>(`messages?app=${app.name}`);
      expect(caught.messages).toHaveLength(2);
      expect(await version()).toBe(stored?.version);
      expect(logs.about('read replica')).toEqual([]);
    } finally {
      await db.resumeApplying();
      await other.close();
    }
  });

  it('falls back to the primary while the replica is down, with one log line, then goes back', async () => {
    const relay = await startRelay(p.replica);
    const lines = collector();
    const down = await createTestHub(db.targetVia(relay.port), { sim, env, log: lines.log });
    try {
      const get = await consoleOf(down);
      const names = async () =>
        (await get<{ apps: { name: string }[] }>('apps')).apps.map((a) => a.name);
      expect(await names()).toContain(app.name);
      expect(relay.connections).toBeGreaterThan(0);

      await relay.cut();
      const before = await db.replicaSelects();
      expect(await names()).toContain(app.name);
      const messages = await get<{ messages: unknown[] }>(`messages?app=${app.name}`);
      expect(messages.messages).toHaveLength(2);
      await get('dashboard');
      expect(await db.replicaSelects()).toBe(before);
      const warned = lines.about('read replica');
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatchObject({ level: 'warn' });
      expect(lines.text.join('\n')).not.toMatch(/mysql:\/\/|pw-wxr_/);

      await relay.restore();
      sim.sim.clock.advance(31_000);
      expect(await names()).toContain(app.name);
      expect(await db.replicaSelects()).toBeGreaterThan(before);
      expect(lines.about('read replica')).toHaveLength(2);
      expect(lines.about('is back')).toHaveLength(1);
    } finally {
      await down.close();
      await relay.close();
    }
  });
});
