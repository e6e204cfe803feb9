import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import type { AppConfig } from '../../shared/config';
import { createBaseApp } from '../../shared/http/app';
import type { Deps } from '../../shared/platform/deps';
import { COUNTER_BUCKET_MS } from '../../shared/store';
import { testTargets, uniqueName } from '../../shared/store/testing';
import { componentFixture, newAuthorizer } from '../component-fixture';
import { merchantKeyPair, newPublicKey, testMerchant } from '../pay-notify/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';
import { startTarget } from '../wx-callback/testing';
import { createAdminDataRoutes } from './data';
import type { AdminActor, AdminEnv, AuditEntry } from './types';

const ADMIN: AdminActor = { id: 7, name: 'root' };

interface Console {
  request(path: string, init?: { method?: string; body?: unknown }): Promise<Response>;
  json<T = Record<string, unknown>>(
    path: string,
    init?: { method?: string; body?: unknown },
  ): Promise<{ status: number; body: T }>;
  audited: (AuditEntry & { admin: string })[];
}

/**
 * The data routes as the lead mounts them (behind the session layer): a base app, a stand-in for
 * the session layer that sets `admin`, and a guard that records what is audited.
 */
function adminConsole(deps: Deps): Console {
  const audited: Console['audited'] = [];
  const admin = new Hono<AdminEnv>();
  admin.use('/admin/api/*', async (c, next) => {
    c.set('admin', ADMIN);
    await next();
  });
  admin.route(
    '/',
    createAdminDataRoutes(deps, {
      async audit(c, entry) {
        audited.push({ ...entry, admin: c.get('admin').name });
      },
    }),
  );
  const app = createBaseApp(deps);
  app.route('/', admin);
  const request = async (path: string, init: { method?: string; body?: unknown } = {}) =>
    app.request(path, {
      method: init.method ?? 'GET',
      ...(init.body === undefined
        ? {}
        : {
            headers: { 'content-type': 'application/json' },
            body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
          }),
    });
  return {
    request,
    async json<T>(path: string, init: { method?: string; body?: unknown } = {}) {
      const res = await request(path, init);
      return { status: res.status, body: (await res.json()) as T };
    },
    audited,
  };
}

type Json = Record<string, unknown>;

describe.each(testTargets())('admin data routes on $name', (target) => {
  let sim: RunningSimulator;
  let hub: TestHub;
  let ui: Console;
  const fileApp = testApp({ tokenMode: 'classic' });
  beforeAll(async () => {
    sim = await startSimulator();
    hub = await createTestHub(target, { apps: [fileApp], sim });
    ui = adminConsole(hub.deps);
  });
  afterAll(async () => {
    await hub.close();
    await sim.close();
  });

  /** A console-made app's entry, registered in the simulator so its secret works. */
  function newApp(over: Partial<AppConfig> = {}): AppConfig {
    const a = testApp({ tokenMode: 'classic', ...over });
    if (a.appSecret !== undefined) sim.sim.registerApp({ appId: a.appId, secret: a.appSecret });
    return a;
  }

  describe('apps', () => {
    it('POST creates an app from its apps-file shape: 201, source api, secrets as booleans, audited', async () => {
      const a = newApp({ token: 'CallbackToken1' });
      const { status, body } = await ui.json<{ app: Json }>('/admin/api/apps', {
        method: 'POST',
        body: a,
      });
      expect(status).toBe(201);
      expect(body.app).toMatchObject({
        name: a.name,
        kind: 'official',
        appId: a.appId,
        source: 'api',
        enabled: true,
        tokenMode: 'classic',
        secrets: { appSecret: true, token: true, encodingAesKey: false },
      });
      expect(JSON.stringify(body)).not.toContain(a.appSecret);
      // Sealed as the apps file's are: the store opens it.
      expect((await hub.deps.store.apps.get(a.name))?.appSecret).toBe(a.appSecret);
      expect(ui.audited.at(-1)).toEqual({
        action: 'apps.create',
        target: `app:${a.name}`,
        admin: 'root',
      });
      // Its token route works at once (the registry forgot its miss).
      const token = await hub.app.request(`/v1/apps/${a.name}/token`, { headers: AUTH });
      expect(token.status).toBe(200);
    });

    it('POST answers 409 for a name that exists, and 400 naming each bad field; nothing changes', async () => {
      const before = await ui.audited.length;
      const dup = await ui.json<{ error: Json }>('/admin/api/apps', {
        method: 'POST',
        body: { ...fileApp, appId: 'wxchanged000' },
      });
      expect(dup.status).toBe(409);
      expect(dup.body.error.code).toBe('CONFLICT');
      expect((await hub.deps.store.apps.get(fileApp.name))?.appId).toBe(fileApp.appId);

      const name = uniqueName('bad');
      const bad = await ui.json<{ error: Json }>('/admin/api/apps', {
        method: 'POST',
        body: { name, kind: 'fax', appId: 'x', appSecret: 'do-not-echo-this-secret', extra: 1 },
      });
      expect(bad.status).toBe(400);
      const message = String(bad.body.error.message);
      expect(message).toContain('kind');
      expect(message).toContain('appId');
      expect(message).toContain('extra');
      expect(message).not.toContain('do-not-echo-this-secret');
      expect(await hub.deps.store.apps.get(name)).toBeUndefined();

      for (const body of ['not json', '[1]', 'null']) {
        const res = await ui.request('/admin/api/apps', { method: 'POST', body });
        expect(res.status).toBe(400);
      }
      expect(ui.audited.length).toBe(before);
    });

    it('GET lists file and console apps without a secret value', async () => {
      const { status, body } = await ui.json<{ apps: Json[] }>('/admin/api/apps');
      expect(status).toBe(200);
      const file = body.apps.find((a) => a.name === fileApp.name);
      expect(file).toMatchObject({ source: 'file', secrets: { appSecret: true } });
      expect(JSON.stringify(body)).not.toContain(fileApp.appSecret);
    });

    it('PATCH changes the fields given, keeps an absent secret, replaces a given one; audited by field names', async () => {
      const a = newApp();
      await ui.request('/admin/api/apps', { method: 'POST', body: a });
      const target = await startTarget();
      try {
        const kept = await ui.json<{ app: Json }>(`/admin/api/apps/${a.name}`, {
          method: 'PATCH',
          body: { forward: [{ url: target.url }] },
        });
        expect(kept.status).toBe(200);
        expect(kept.body.app).toMatchObject({ forward: [{ url: target.url }], source: 'api' });
        const stored = await hub.deps.store.apps.get(a.name);
        expect(stored?.appSecret).toBe(a.appSecret);
        expect(ui.audited.at(-1)).toEqual({
          action: 'apps.update',
          target: `app:${a.name}`,
          detail: { fields: 'forward', enabled: true },
          admin: 'root',
        });
        const replaced = await ui.request(`/admin/api/apps/${a.name}`, {
          method: 'PATCH',
          body: { appSecret: 'a-brand-new-secret-value' },
        });
        expect(replaced.status).toBe(200);
        expect(await replaced.text()).not.toContain('a-brand-new-secret-value');
        expect((await hub.deps.store.apps.get(a.name))?.appSecret).toBe('a-brand-new-secret-value');
        expect(JSON.stringify(ui.audited)).not.toContain('a-brand-new-secret-value');
      } finally {
        await target.close();
      }
    });

    it('PATCH: 400 for a bad value (nothing changed), 404 for an unknown app, 409 for a file app', async () => {
      const a = newApp();
      await ui.request('/admin/api/apps', { method: 'POST', body: a });
      const bad = await ui.json<{ error: Json }>(`/admin/api/apps/${a.name}`, {
        method: 'PATCH',
        body: { tokenMode: 'sometimes' },
      });
      expect(bad.status).toBe(400);
      expect(String(bad.body.error.message)).toContain('tokenMode');
      expect((await hub.deps.store.apps.get(a.name))?.tokenMode).toBe('classic');
      const renamed = await ui.request(`/admin/api/apps/${a.name}`, {
        method: 'PATCH',
        body: { name: 'other-name' },
      });
      expect(renamed.status).toBe(400);
      const unknown = await ui.request(`/admin/api/apps/${uniqueName('none')}`, {
        method: 'PATCH',
        body: { enabled: false },
      });
      expect(unknown.status).toBe(404);
      const file = await ui.json<{ error: Json }>(`/admin/api/apps/${fileApp.name}`, {
        method: 'PATCH',
        body: { enabled: false },
      });
      expect(file.status).toBe(409);
      expect(file.body.error).toMatchObject({
        code: 'CONFLICT',
        message: expect.stringContaining('listed in the apps file; change it there'),
      });
      expect((await hub.deps.store.apps.get(fileApp.name))?.enabled).toBe(true);
    });

    it('"enabled": false disables the app: this instance at once, another within the registry TTL (30 s)', async () => {
      const a = newApp();
      await ui.request('/admin/api/apps', { method: 'POST', body: a });
      const other = await createTestHub(target, { sim });
      try {
        const token = async (h: TestHub) =>
          (await h.app.request(`/v1/apps/${a.name}/token`, { headers: AUTH })).status;
        expect(await token(hub)).toBe(200);
        expect(await token(other)).toBe(200);
        const off = await ui.json<{ app: Json }>(`/admin/api/apps/${a.name}`, {
          method: 'PATCH',
          body: { enabled: false },
        });
        expect(off.body.app).toMatchObject({ enabled: false });
        expect(await token(hub)).toBe(404);
        sim.sim.clock.advance(30_001);
        expect(await token(other)).toBe(404);
        // Listed still, so it can be enabled again.
        const on = await ui.request(`/admin/api/apps/${a.name}`, {
          method: 'PATCH',
          body: { enabled: true },
        });
        expect(on.status).toBe(200);
        expect(await token(hub)).toBe(200);
      } finally {
        await other.close();
      }
    });
  });

  describe('merchants', () => {
    const key = merchantKeyPair();
    const pub = newPublicKey();

    it('POST creates, GET lists with booleans for the API v3 key and private key, PATCH keeps them', async () => {
      const m = testMerchant(key.privateKeyPem, [pub]);
      const created = await ui.json<{ merchant: Json }>('/admin/api/merchants', {
        method: 'POST',
        body: m,
      });
      expect(created.status).toBe(201);
      expect(created.body.merchant).toMatchObject({
        name: m.name,
        mchId: m.mchId,
        source: 'api',
        secrets: { apiV3Key: true, privateKey: true },
      });
      const list = await ui.request('/admin/api/merchants');
      const text = await list.text();
      expect(text).toContain(m.name);
      expect(text).not.toContain(m.apiV3Key);
      expect(text).not.toContain('PRIVATE KEY');
      const patched = await ui.json<{ merchant: Json }>(`/admin/api/merchants/${m.name}`, {
        method: 'PATCH',
        body: { enabled: false },
      });
      expect(patched.status).toBe(200);
      expect(patched.body.merchant).toMatchObject({ enabled: false });
      const stored = await hub.deps.store.merchants.get(m.name);
      expect(stored).toMatchObject({
        apiV3Key: m.apiV3Key,
        privateKey: m.privateKey,
        enabled: false,
      });
      expect(ui.audited.at(-1)).toMatchObject({
        action: 'merchants.update',
        target: `merchant:${m.name}`,
      });
    });

    it('400 for a bad merchant, 409 for a duplicate or a file merchant, 404 for an unknown one', async () => {
      const m = testMerchant(key.privateKeyPem, [pub]);
      const bad = await ui.json<{ error: Json }>('/admin/api/merchants', {
        method: 'POST',
        body: { ...m, apiV3Key: 'short' },
      });
      expect(bad.status).toBe(400);
      expect(String(bad.body.error.message)).toContain('apiV3Key');
      expect(await hub.deps.store.merchants.get(m.name)).toBeUndefined();
      await hub.deps.store.merchants.upsert(m, 'file', hub.deps.clock.now());
      const dup = await ui.request('/admin/api/merchants', { method: 'POST', body: m });
      expect(dup.status).toBe(409);
      const file = await ui.request(`/admin/api/merchants/${m.name}`, {
        method: 'PATCH',
        body: { enabled: false },
      });
      expect(file.status).toBe(409);
      const unknown = await ui.request(`/admin/api/merchants/${uniqueName('none')}`, {
        method: 'PATCH',
        body: {},
      });
      expect(unknown.status).toBe(404);
    });
  });

  describe('credentials', () => {
    it('GET masks each value to its first and last 4 characters', async () => {
      await hub.app.request(`/v1/apps/${fileApp.name}/token`, { headers: AUTH });
      const stored = await hub.deps.store.credentials.get({
        owner: `app:${fileApp.name}`,
        kind: 'access_token',
      });
      const value = stored?.value ?? '';
      expect(value.length).toBeGreaterThan(12);
      const { status, body } = await ui.json<{ credentials: Json[] }>(
        `/admin/api/credentials?owner=app:${fileApp.name}&kind=access_token`,
      );
      expect(status).toBe(200);
      expect(body.credentials).toEqual([
        {
          owner: `app:${fileApp.name}`,
          kind: 'access_token',
          masked: `${value.slice(0, 4)}…${value.slice(-4)}`,
          expiresAt: new Date(stored?.expiresAt ?? 0).toISOString(),
          version: stored?.version,
          refreshedAt: expect.any(String),
          lastError: null,
        },
      ]);
      const long = await ui.request(`/admin/api/credentials?owner=${'x'.repeat(300)}`);
      expect(long.status).toBe(400);
    });

    it('POST refresh fetches a new value now through the credential manager: one upstream call, audited, counted', async () => {
      const key = { owner: `app:${fileApp.name}`, kind: 'access_token' };
      await hub.app.request(`/v1/apps/${fileApp.name}/token`, { headers: AUTH });
      const before = await hub.deps.store.credentials.get(key);
      const calls = sim.sim.calls('/cgi-bin/token', fileApp.appId);
      const dash = async () =>
        (await ui.json<{ activity: { refreshes: number[] } }>('/admin/api/dashboard')).body.activity
          .refreshes;
      const counted = (await dash()).at(-1) ?? 0;
      const { status, body } = await ui.json<Json>('/admin/api/credentials/refresh', {
        method: 'POST',
        body: key,
      });
      expect(status).toBe(200);
      expect(sim.sim.calls('/cgi-bin/token', fileApp.appId)).toBe(calls + 1);
      expect(body).toMatchObject({ ...key, version: (before?.version ?? 0) + 1, lastError: null });
      const after = await hub.deps.store.credentials.get(key);
      expect(after?.value).not.toBe(before?.value);
      expect(JSON.stringify(body)).not.toContain(after?.value ?? 'x');
      // The token route serves the new value on this instance at once.
      const served = await hub.app.request(`/v1/apps/${fileApp.name}/token`, { headers: AUTH });
      expect(((await served.json()) as Json).accessToken).toBe(after?.value);
      expect(ui.audited.at(-1)).toEqual({
        action: 'credentials.refresh',
        target: `${key.owner}/${key.kind}`,
        detail: { version: after?.version ?? 0 },
        admin: 'root',
      });
      expect((await dash()).at(-1)).toBe(counted + 1);
    });

    it('a failed refresh answers as WeChat did (502) and is counted too', async () => {
      const key = { owner: `app:${fileApp.name}`, kind: 'access_token' };
      sim.sim.injectFault({ path: '/cgi-bin/token', appId: fileApp.appId, errcode: 40013 });
      const { status } = await ui.json('/admin/api/credentials/refresh', {
        method: 'POST',
        body: key,
      });
      expect(status).toBe(502);
      const row = await hub.deps.store.credentials.get(key);
      expect(row?.lastError).toContain('40013');
      const errors = await hub.deps.store.counters.list(
        'refresh',
        hub.deps.clock.now() - COUNTER_BUCKET_MS,
        hub.deps.clock.now() + 1,
      );
      expect(errors.some((b) => b.label === 'error' && b.count >= 1)).toBe(true);
    });

    it('POST refresh: 400 for a bad body or a kind the hub does not refresh, 404 for an unknown row', async () => {
      const calls = sim.sim.calls('/cgi-bin/token', fileApp.appId);
      const before = ui.audited.length;
      for (const body of [{}, { owner: 'app:x' }, { owner: 1, kind: 'access_token' }, 'nope']) {
        const res = await ui.request('/admin/api/credentials/refresh', { method: 'POST', body });
        expect(res.status).toBe(400);
      }
      await hub.deps.store.credentials.ensure(
        { owner: `app:${fileApp.name}`, kind: 'classic_refresh_budget' },
        hub.deps.clock.now(),
      );
      const budget = await ui.json<{ error: Json }>('/admin/api/credentials/refresh', {
        method: 'POST',
        body: { owner: `app:${fileApp.name}`, kind: 'classic_refresh_budget' },
      });
      expect(budget.status).toBe(400);
      expect(String(budget.body.error.message)).toContain('not refreshed by the hub');
      const unknown = await ui.request('/admin/api/credentials/refresh', {
        method: 'POST',
        body: { owner: `app:${uniqueName('none')}`, kind: 'access_token' },
      });
      expect(unknown.status).toBe(404);
      expect(sim.sim.calls('/cgi-bin/token', fileApp.appId)).toBe(calls);
      expect(ui.audited.length).toBe(before);
    });
  });

  describe('dashboard', () => {
    it('shows credentials with freshness, 24 hourly buckets of pushes and pay notifications, outbox counts', async () => {
      const now = hub.deps.clock.now();
      const read = async () =>
        (await ui.json<Json>('/admin/api/dashboard')).body as {
          credentials: Json[];
          activity: {
            from: string;
            bucketSeconds: number;
            pushes: number[];
            payNotifications: number[];
            refreshes: number[];
          };
          outbox: { pending: number; dead: number };
        };
      const before = await read();
      const app = uniqueName('dash');
      await hub.deps.store.messages.insert(
        {
          app,
          dedupKey: 'now',
          receivedAt: now,
          format: 'xml',
          encrypted: false,
          raw: '<xml/>',
          parsed: {},
        },
        [
          {
            owner: app,
            targetUrl: 'http://127.0.0.1:9/hook',
            idempotencyKey: `${app}-1`,
            payload: '{}',
            maxAttempts: 3,
            nextAttemptAt: now + 3_600_000,
          },
        ],
        now,
      );
      await hub.deps.store.messages.insert(
        {
          app,
          dedupKey: 'old',
          receivedAt: now - 5 * COUNTER_BUCKET_MS,
          format: 'xml',
          encrypted: false,
          raw: '<xml/>',
          parsed: {},
        },
        [],
        now,
      );
      await hub.deps.store.payNotifications.insert(
        {
          merchant: app,
          notificationId: 'EV-1',
          eventType: 'TRANSACTION.SUCCESS',
          resourceType: 'encrypt-resource',
          raw: '{}',
          resource: {},
          receivedAt: now - COUNTER_BUCKET_MS,
        },
        [],
        now,
      );
      const after = await read();
      expect(after.activity.bucketSeconds).toBe(3600);
      expect(after.activity.pushes).toHaveLength(24);
      expect(after.activity.payNotifications).toHaveLength(24);
      expect(after.activity.refreshes).toHaveLength(24);
      expect(Date.parse(after.activity.from)).toBe(
        now - (now % COUNTER_BUCKET_MS) - 23 * COUNTER_BUCKET_MS,
      );
      const diff = (a: number[], b: number[]) => a.map((n, i) => n - (b[i] ?? 0));
      const pushes = diff(after.activity.pushes, before.activity.pushes);
      expect(pushes[23]).toBe(1);
      expect(pushes[18]).toBe(1);
      expect(pushes.reduce((s, n) => s + n, 0)).toBe(2);
      expect(diff(after.activity.payNotifications, before.activity.payNotifications)[22]).toBe(1);
      expect(after.outbox.pending).toBe(before.outbox.pending + 1);
      const cred = after.credentials.find(
        (c) => c.owner === `app:${fileApp.name}` && c.kind === 'access_token',
      );
      expect(cred).toMatchObject({
        expiresInSeconds: expect.any(Number),
        failures: expect.any(Number),
        leaseHolder: null,
      });
      expect(Object.keys(cred ?? {}).sort()).toEqual([
        'expiresAt',
        'expiresInSeconds',
        'failures',
        'kind',
        'lastError',
        'leaseHolder',
        'leaseUntil',
        'owner',
        'refreshedAt',
      ]);
      // Bookkeeping rows (budgets, leases) are not credentials the dashboard shows.
      expect(after.credentials.some((c) => String(c.kind).endsWith('_budget'))).toBe(false);
    });
  });
});
