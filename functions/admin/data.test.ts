import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import { appView } from '../../shared/admin/views';
import type { AppConfig } from '../../shared/config';
import { createBaseApp } from '../../shared/http/app';
import type { Deps } from '../../shared/platform/deps';
import { COUNTER_BUCKET_MS, type NewCallbackMessage } from '../../shared/store';
import { testTargets, uniqueName } from '../../shared/store/testing';
import { componentFixture, newAuthorizer } from '../component-fixture';
import { merchantKeyPair, newPublicKey, testMerchant } from '../pay-notify/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';
import { startTarget } from '../wx-callback/testing';
import { createAdminDataRoutes } from './data';
import type { AdminActor, AdminEnv, AuditEntry } from './types';

/** A plain `<xml/>` push of `app` received at `receivedAt` (epoch ms). */
function xmlMessage(
  app: string,
  dedupKey: string,
  receivedAt: number,
  over: Partial<NewCallbackMessage> = {},
): NewCallbackMessage {
  return {
    app,
    dedupKey,
    receivedAt,
    format: 'xml',
    encrypted: false,
    raw: '<xml/>',
    parsed: {},
    ...over,
  };
}

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

    it('PATCH of a wecom-suite keeps its provider corpid and secret', async () => {
      const name = uniqueName('suite');
      const created = await ui.json<{ app: Json }>('/admin/api/apps', {
        method: 'POST',
        body: {
          name,
          kind: 'wecom-suite',
          suiteId: 'ww0123456789suite',
          suiteSecret: 'suite-secret-value-1',
          token: 'SuiteToken1',
          encodingAesKey: 'A'.repeat(43),
          providerCorpId: 'ww0123456789corp',
        },
      });
      expect(created.status).toBe(201);
      const patched = await ui.json<{ app: Json }>(`/admin/api/apps/${name}`, {
        method: 'PATCH',
        body: { enabled: false },
      });
      expect(patched.status).toBe(200);
      const stored = await hub.deps.store.apps.get(name);
      expect(stored).toMatchObject({
        appId: 'ww0123456789suite',
        appSecret: 'suite-secret-value-1',
        providerCorpId: 'ww0123456789corp',
        enabled: false,
      });
    });

    it('shows forward targets and authRedirectUrl without user info or query; a rule sent back as shown keeps them, an omitted forward is kept', async () => {
      const secretUrl = 'https://hooks.example/in?key=TOPSECRETKEY';
      const a = newApp({ forward: [{ url: secretUrl, match: { MsgType: 'text' } }] });
      const created = await ui.json<{ app: Json }>('/admin/api/apps', { method: 'POST', body: a });
      expect(created.status).toBe(201);
      const shown = {
        url: 'https://hooks.example/in',
        hasUserInfo: false,
        hasQuery: true,
        match: { MsgType: 'text' },
      };
      expect(created.body.app.forward).toEqual([shown]);
      expect(await (await ui.request('/admin/api/apps')).text()).not.toContain('TOPSECRETKEY');
      // The console edits the rule as it was shown: the stored URL keeps its query.
      const edited = await ui.json<{ app: Json }>(`/admin/api/apps/${a.name}`, {
        method: 'PATCH',
        body: { forward: [{ url: shown.url, match: { MsgType: ['text', 'image'] } }] },
      });
      expect(edited.status).toBe(200);
      expect(JSON.stringify(edited.body)).not.toContain('TOPSECRETKEY');
      expect((await hub.deps.store.apps.get(a.name))?.forward).toEqual([
        { url: secretUrl, match: { MsgType: ['text', 'image'] } },
      ]);
      // A PATCH without `forward` keeps the rules.
      const other = await ui.json<{ app: Json }>(`/admin/api/apps/${a.name}`, {
        method: 'PATCH',
        body: { tokenMode: 'stable' },
      });
      expect(other.status).toBe(200);
      expect((await hub.deps.store.apps.get(a.name))?.forward[0]?.url).toBe(secretUrl);
      // A row stored with user info (before the apps-file check refused it) shows none either.
      const stored = await hub.deps.store.apps.get(a.name);
      if (stored === undefined) throw new Error('no app');
      const withUser = { ...stored, forward: [{ url: 'https://bot:Pa55w0rd@hooks.example/in' }] };
      await hub.deps.store.apps.upsert(withUser, 'api', hub.deps.clock.now());
      hub.deps.apps.forget();
      const listed = await ui.request('/admin/api/apps');
      const text = await listed.text();
      expect(text).not.toContain('Pa55w0rd');
      expect(text).toContain('"hasUserInfo":true');
      const view = appView({
        ...stored,
        authRedirectUrl: 'https://web.example/after?state=SECRETSTATE#frag',
      });
      expect(view).toMatchObject({
        authRedirectUrl: 'https://web.example/after',
        authRedirectUrlHidden: true,
      });
    });

    it('PATCH writes back the entry as it was configured: a default message mode stays a default', async () => {
      const wecom = newApp({ kind: 'wecom', tokenMode: 'stable' });
      const plain = newApp({ encodingAesKey: 'C'.repeat(43), messageMode: 'plain' });
      const aes = newApp({ encodingAesKey: 'D'.repeat(43) });
      for (const a of [wecom, plain, aes]) {
        expect((await ui.request('/admin/api/apps', { method: 'POST', body: a })).status).toBe(201);
        const res = await ui.json<{ app: Json }>(`/admin/api/apps/${a.name}`, {
          method: 'PATCH',
          body: { forward: [] },
        });
        expect([a.name, res.status]).toEqual([a.name, 200]);
      }
      expect((await hub.deps.store.apps.get(plain.name))?.messageMode).toBe('plain');
      const stored = await hub.deps.store.apps.get(aes.name);
      expect(stored?.messageMode).toBe('safe');
      expect(stored?.configuredMessageMode).toBeUndefined();
      const dropped = await ui.json<{ app: Json }>(`/admin/api/apps/${plain.name}`, {
        method: 'PATCH',
        body: { messageMode: 'safe' },
      });
      expect(dropped.body.app).toMatchObject({ messageMode: 'safe' });
    });

    it('PATCH of an app whose sealed secret does not open asks for a new value instead of dropping it', async () => {
      const a = newApp({ token: 'CallbackToken3' });
      const elsewhere = await createTestHub(target, {
        sim,
        secretKeys: [Buffer.from('another-32-byte-key-for-rotation', 'utf8')],
      });
      try {
        await elsewhere.deps.store.apps.create(a, 'api', elsewhere.deps.clock.now());
      } finally {
        await elsewhere.close();
      }
      const listed = await ui.json<{ apps: Json[] }>('/admin/api/apps');
      expect(listed.body.apps.find((x) => x.name === a.name)).toMatchObject({
        secrets: { appSecret: true, token: true, encodingAesKey: false },
      });
      const refused = await ui.json<{ error: Json }>(`/admin/api/apps/${a.name}`, {
        method: 'PATCH',
        body: { appSecret: 'a-replacement-secret-value' },
      });
      expect(refused.status).toBe(409);
      expect(String(refused.body.error.message)).toContain('token is stored but does not open');
      const fixed = await ui.request(`/admin/api/apps/${a.name}`, {
        method: 'PATCH',
        body: { appSecret: 'a-replacement-secret-value', token: 'CallbackToken4' },
      });
      expect(fixed.status).toBe(200);
      expect(await hub.deps.store.apps.get(a.name)).toMatchObject({
        appSecret: 'a-replacement-secret-value',
        token: 'CallbackToken4',
      });
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
      // Forward targets are shown without query; a PATCH of the rule as shown keeps it.
      const hook = 'https://shop.example/paid?sig=PAYSECRETQUERY';
      const fwd = await ui.json<{ merchant: Json }>(`/admin/api/merchants/${m.name}`, {
        method: 'PATCH',
        body: { forward: [{ url: hook }] },
      });
      expect(fwd.status).toBe(200);
      expect(fwd.body.merchant.forward).toEqual([
        { url: 'https://shop.example/paid', hasUserInfo: false, hasQuery: true },
      ]);
      const again = await ui.request(`/admin/api/merchants/${m.name}`, {
        method: 'PATCH',
        body: { forward: [{ url: 'https://shop.example/paid', timeoutMs: 2000 }] },
      });
      expect(await again.text()).not.toContain('PAYSECRETQUERY');
      expect((await hub.deps.store.merchants.get(m.name))?.forward).toEqual([
        { url: hook, timeoutMs: 2000 },
      ]);
      expect(await (await ui.request('/admin/api/merchants')).text()).not.toContain('PAYSECRET');
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

    it('refresh now from two instances at once makes one upstream call (the lease)', async () => {
      const a = newApp();
      await ui.request('/admin/api/apps', { method: 'POST', body: a });
      const other = await createTestHub(target, { sim });
      try {
        const key = { owner: `app:${a.name}`, kind: 'access_token' };
        await hub.app.request(`/v1/apps/${a.name}/token`, { headers: AUTH });
        const before = await hub.deps.store.credentials.get(key);
        const calls = sim.sim.calls('/cgi-bin/token', a.appId);
        // The upstream answer is slowed so that both requests overlap.
        sim.sim.injectFault({ path: '/cgi-bin/token', appId: a.appId, delayMs: 300 });
        const answers = await Promise.all(
          [ui, adminConsole(other.deps)].map((c) =>
            c.json<Json>('/admin/api/credentials/refresh', { method: 'POST', body: key }),
          ),
        );
        expect(answers.map((r) => r.status)).toEqual([200, 200]);
        expect(sim.sim.calls('/cgi-bin/token', a.appId)).toBe(calls + 1);
        const after = await hub.deps.store.credentials.get(key);
        expect(after?.version).toBe((before?.version ?? 0) + 1);
      } finally {
        await other.close();
      }
    });

    it('a counter write that fails once is retried; one that keeps failing never fails the refresh', async () => {
      const key = { owner: `app:${fileApp.name}`, kind: 'access_token' };
      await hub.app.request(`/v1/apps/${fileApp.name}/token`, { headers: AUTH });
      const counters = hub.deps.store.counters;
      const increment = counters.increment;
      const refreshes = async () =>
        (
          await ui.json<{ activity: { refreshes: number[] } }>('/admin/api/dashboard')
        ).body.activity.refreshes.at(-1) ?? 0;
      const before = await refreshes();
      let failures = 1;
      counters.increment = (...args) =>
        failures-- > 0 ? Promise.reject(new Error('deadlock')) : increment(...args);
      try {
        const once = await ui.request('/admin/api/credentials/refresh', {
          method: 'POST',
          body: key,
        });
        expect(once.status).toBe(200);
        expect(await refreshes()).toBe(before + 1);
        failures = 100;
        const always = await ui.request('/admin/api/credentials/refresh', {
          method: 'POST',
          body: key,
        });
        expect(always.status).toBe(200);
      } finally {
        counters.increment = increment;
      }
      expect(await refreshes()).toBe(before + 1);
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
      expect(errors.some((b) => b.label === 'access_token:error' && b.count >= 1)).toBe(true);
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
        xmlMessage(app, 'now', now),
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
        xmlMessage(app, 'old', now - 5 * COUNTER_BUCKET_MS),
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

  describe('messages and pay notifications', () => {
    async function seedMessages() {
      const app = uniqueName('msgs');
      const now = hub.deps.clock.now();
      const base = { app, format: 'xml' as const, encrypted: false, raw: '<xml/>', parsed: {} };
      const ids: number[] = [];
      for (let n = 0; n < 5; n++) {
        const stored = await hub.deps.store.messages.insert(
          {
            ...base,
            dedupKey: `m${n}`,
            receivedAt: now - n * 60_000,
            msgType: n % 2 === 0 ? 'text' : 'event',
            ...(n % 2 === 0 ? {} : { event: 'subscribe' }),
            fromUser: n === 4 ? 'openid-special' : 'openid-1',
            raw: `<xml><Content>hello ${n}</Content></xml>`,
            parsed: { Content: `hello ${n}` },
          },
          n === 0
            ? [
                {
                  owner: app,
                  targetUrl: 'https://user:pw@example.com/hook?key=secret',
                  idempotencyKey: `${app}-0`,
                  payload: '{}',
                  maxAttempts: 3,
                  nextAttemptAt: now + 3_600_000,
                },
              ]
            : [],
          now,
        );
        ids.push(stored.message.id);
      }
      return { app, now, ids };
    }

    it('GET /messages searches by app, type, event, openid and time, newest first, paged by id', async () => {
      const { app, now, ids } = await seedMessages();
      const list = async (q: string) =>
        (
          await ui.json<{ messages: Json[]; next: number | null }>(
            `/admin/api/messages?app=${app}${q}`,
          )
        ).body;
      const all = await list('');
      expect(all.messages.map((m) => m.id)).toEqual([...ids].sort((a, b) => b - a));
      expect(all.next).toBeNull();
      expect(all.messages[0]).toEqual({
        id: ids[4],
        app,
        authorizerAppId: null,
        msgType: 'text',
        event: null,
        fromUser: 'openid-special',
        receivedAt: new Date(now - 4 * 60_000).toISOString(),
        encrypted: false,
      });
      const first = await list('&limit=2');
      expect(first.messages).toHaveLength(2);
      expect(first.next).toBe(first.messages[1]?.id);
      const second = await list(`&limit=2&before=${first.next}`);
      const third = await list(`&limit=2&before=${second.next}`);
      expect([...first.messages, ...second.messages, ...third.messages].map((m) => m.id)).toEqual(
        all.messages.map((m) => m.id),
      );
      expect((await list('&type=event')).messages.map((m) => m.id)).toEqual([ids[3], ids[1]]);
      expect((await list('&event=subscribe&type=event')).messages).toHaveLength(2);
      expect((await list('&openid=openid-special')).messages.map((m) => m.id)).toEqual([ids[4]]);
      const from = new Date(now - 2 * 60_000).toISOString();
      const to = new Date(now).toISOString();
      expect((await list(`&from=${from}&to=${to}`)).messages.map((m) => m.id)).toEqual([
        ids[2],
        ids[1],
      ]);
    });

    it('GET /messages: 400 for a bad time, limit or cursor', async () => {
      for (const q of [
        'from=yesterday',
        'to=2026-13-45T99:00:00Z',
        'limit=0',
        'limit=1000',
        'before=-1',
        'before=x',
      ]) {
        const { status, body } = await ui.json<{ error: Json }>(`/admin/api/messages?${q}`);
        expect(status).toBe(400);
        expect(body.error.code).toBe('BAD_REQUEST');
      }
    });

    it('GET /messages/{id}: fields, raw body, reply and each delivery (target without credentials); 404 otherwise', async () => {
      const { ids } = await seedMessages();
      const { status, body } = await ui.json<{ message: Json; deliveries: Json[] }>(
        `/admin/api/messages/${ids[0]}`,
      );
      expect(status).toBe(200);
      expect(body.message).toMatchObject({
        id: ids[0],
        fields: { Content: 'hello 0' },
        raw: '<xml><Content>hello 0</Content></xml>',
        reply: null,
      });
      expect(body.deliveries).toEqual([
        expect.objectContaining({
          target: 'https://example.com/hook',
          status: 'pending',
          attempts: 0,
          lastError: null,
          deliveredAt: null,
        }),
      ]);
      expect(JSON.stringify(body)).not.toContain('pw@');
      for (const id of ['999999999', 'abc', '0', '-1']) {
        expect((await ui.request(`/admin/api/messages/${id}`)).status).toBe(404);
      }
    });

    it('an authorization code or pre-auth code in a stored plaintext body (XML or JSON) is never shown', async () => {
      const app = uniqueName('cmp');
      const now = hub.deps.clock.now();
      const insert = (dedupKey: string, raw: string, format: 'xml' | 'json') =>
        hub.deps.store.messages.insert(
          { app, dedupKey, receivedAt: now, format, encrypted: false, raw, parsed: {} },
          [],
          now,
        );
      const xml = await insert(
        'a1',
        '<xml><InfoType>authorized</InfoType><AuthorizationCode><![CDATA[queryauthcode@@@SECRETCODE]]></AuthorizationCode><PreAuthCode>preauthcode@@@SECRETPRE</PreAuthCode></xml>',
        'xml',
      );
      const json = await insert(
        'a2',
        '{"InfoType":"authorized","AuthorizationCode":"queryauthcode@@@SECRETJSON","PreAuthCode":"p\\"SECRETESC"}',
        'json',
      );
      for (const id of [xml.message.id, json.message.id]) {
        const res = await ui.request(`/admin/api/messages/${id}`);
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text).toContain('(redacted by wxhub)');
        expect(text).not.toMatch(/SECRET(CODE|PRE|JSON|ESC)/);
      }
    });

    it('a component ticket in a stored plaintext body is never shown', async () => {
      const app = uniqueName('cmp');
      const stored = await hub.deps.store.messages.insert(
        {
          app,
          dedupKey: 't1',
          receivedAt: hub.deps.clock.now(),
          format: 'xml',
          encrypted: false,
          raw: '<xml><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>ticket@@@secret-value</ComponentVerifyTicket></xml>',
          parsed: { ComponentVerifyTicket: '(kept sealed by wxhub)' },
        },
        [],
        hub.deps.clock.now(),
      );
      const res = await ui.request(`/admin/api/messages/${stored.message.id}`);
      expect(res.status).toBe(200);
      expect(await res.text()).not.toContain('ticket@@@secret-value');
    });

    it('GET /pay-notifications searches by merchant and type; detail shows the decrypted resource and deliveries', async () => {
      const merchant = uniqueName('mch');
      const now = hub.deps.clock.now();
      const ids: number[] = [];
      for (const [i, type] of ['TRANSACTION.SUCCESS', 'REFUND.SUCCESS'].entries()) {
        const r = await hub.deps.store.payNotifications.insert(
          {
            merchant,
            notificationId: `EV-${i}`,
            eventType: type,
            resourceType: 'encrypt-resource',
            summary: '支付成功',
            raw: '{"resource":{"ciphertext":"…"}}',
            resource: { out_trade_no: `o${i}`, amount: { total: 100 } },
            receivedAt: now + i,
          },
          [
            {
              owner: merchant,
              targetUrl: 'http://127.0.0.1:9/pay',
              idempotencyKey: `${merchant}-${i}`,
              payload: '{}',
              maxAttempts: 3,
              nextAttemptAt: now + 3_600_000,
            },
          ],
          now,
        );
        ids.push(r.notification.id);
      }
      const list = await ui.json<{ notifications: Json[]; next: number | null }>(
        `/admin/api/pay-notifications?merchant=${merchant}`,
      );
      expect(list.body.notifications.map((n) => n.id)).toEqual([ids[1], ids[0]]);
      const refunds = await ui.json<{ notifications: Json[] }>(
        `/admin/api/pay-notifications?merchant=${merchant}&type=REFUND.SUCCESS`,
      );
      expect(refunds.body.notifications.map((n) => n.notificationId)).toEqual(['EV-1']);
      const detail = await ui.json<{ notification: Json; deliveries: Json[] }>(
        `/admin/api/pay-notifications/${ids[0]}`,
      );
      expect(detail.status).toBe(200);
      expect(detail.body.notification).toMatchObject({
        merchant,
        eventType: 'TRANSACTION.SUCCESS',
        fields: { out_trade_no: 'o0', amount: { total: 100 } },
      });
      expect(detail.body.deliveries).toHaveLength(1);
      expect((await ui.request('/admin/api/pay-notifications/999999999')).status).toBe(404);
      expect((await ui.request('/admin/api/pay-notifications?from=nope')).status).toBe(400);
    });
  });

  describe('outbox', () => {
    async function deadDelivery(url: string) {
      const app = uniqueName('obx');
      const now = hub.deps.clock.now();
      const stored = await hub.deps.store.messages.insert(
        xmlMessage(app, 'd', now),
        [
          {
            owner: app,
            targetUrl: url,
            idempotencyKey: `${app}-d`,
            payload: JSON.stringify({ app }),
            maxAttempts: 1,
            nextAttemptAt: now,
          },
        ],
        now,
      );
      const refresh = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      expect(refresh.status).toBe(200);
      const [d] = await hub.deps.store.outbox.forSource('message', stored.message.id);
      expect(d).toMatchObject({ status: 'dead', attempts: 1 });
      return { app, id: d?.id ?? 0 };
    }

    it('requeue: a dead delivery goes back to pending, due now, attempts reset, and the next drain delivers it', async () => {
      const t = await startTarget();
      try {
        t.mode = 'down';
        const { app, id } = await deadDelivery(t.url);
        const dead = await ui.json<{ deliveries: Json[] }>(
          `/admin/api/outbox?status=dead&owner=${app}`,
        );
        expect(dead.body.deliveries.map((d) => d.id)).toEqual([id]);
        const { status, body } = await ui.json<{ delivery: Json }>(
          `/admin/api/outbox/${id}/requeue`,
          {
            method: 'POST',
          },
        );
        expect(status).toBe(200);
        expect(body.delivery).toMatchObject({
          id,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: new Date(hub.deps.clock.now()).toISOString(),
        });
        expect(ui.audited.at(-1)).toEqual({
          action: 'outbox.requeue',
          target: `delivery:${id}`,
          detail: { owner: app, was: 'dead' },
          admin: 'root',
        });
        t.mode = 'up';
        await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
        expect(t.received.map((r) => r.body)).toEqual([{ app }]);
        expect(await hub.deps.store.outbox.get(id)).toMatchObject({ status: 'delivered' });
        // Delivered: neither requeued nor discarded any more.
        const again = await ui.json<{ error: Json }>(`/admin/api/outbox/${id}/requeue`, {
          method: 'POST',
        });
        expect(again.status).toBe(409);
        expect(
          (await ui.request(`/admin/api/outbox/${id}/discard`, { method: 'POST' })).status,
        ).toBe(409);
      } finally {
        await t.close();
      }
    });

    it('discard: status discarded, never sent again, not requeued; 404 for an unknown id; 400 for a bad status', async () => {
      const t = await startTarget();
      try {
        t.mode = 'down';
        const { app, id } = await deadDelivery(t.url);
        const { status, body } = await ui.json<{ delivery: Json }>(
          `/admin/api/outbox/${id}/discard`,
          {
            method: 'POST',
          },
        );
        expect(status).toBe(200);
        expect(body.delivery).toMatchObject({ id, status: 'discarded' });
        expect(ui.audited.at(-1)).toMatchObject({
          action: 'outbox.discard',
          target: `delivery:${id}`,
        });
        t.mode = 'up';
        hub.sim.sim.clock.advance(7 * 3_600_000);
        await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
        expect(t.received).toEqual([]);
        expect(
          (await ui.request(`/admin/api/outbox/${id}/requeue`, { method: 'POST' })).status,
        ).toBe(409);
        const listed = await ui.json<{ deliveries: Json[] }>(
          `/admin/api/outbox?status=discarded&owner=${app}`,
        );
        expect(listed.body.deliveries.map((d) => d.id)).toEqual([id]);
        const dead = await ui.json<{ deliveries: Json[] }>(
          `/admin/api/outbox?status=dead&owner=${app}`,
        );
        expect(dead.body.deliveries).toEqual([]);
      } finally {
        await t.close();
      }
      for (const path of ['/admin/api/outbox/999999999/requeue', '/admin/api/outbox/x/discard']) {
        expect((await ui.request(path, { method: 'POST' })).status).toBe(404);
      }
      expect((await ui.request('/admin/api/outbox?status=delivered')).status).toBe(400);
      expect((await ui.request('/admin/api/outbox?limit=0')).status).toBe(400);
    });
  });

  describe('authorizers of a third-party platform', () => {
    it('lists the directory, makes an auth link (PC and H5), syncs; all through the existing component code', async () => {
      const fx = await componentFixture(target, sim);
      try {
        const cui = adminConsole(fx.hub.deps);
        const authorizer = newAuthorizer();
        await fx.authorize(authorizer);
        const list = await cui.json<{ app: string; authorizers: Json[]; total: number }>(
          `/admin/api/authorizers?app=${fx.app.name}&status=authorized`,
        );
        expect(list.status).toBe(200);
        expect(list.body).toMatchObject({ app: fx.app.name, total: 1 });
        expect(list.body.authorizers[0]).toMatchObject({ appId: authorizer, status: 'authorized' });
        const pc = await cui.json<{ url: string; expiresAt: string }>(
          `/admin/api/components/${fx.app.name}/auth-link`,
          { method: 'POST', body: { type: 'pc', authType: 3 } },
        );
        expect(pc.status).toBe(200);
        expect(pc.body.url).toContain('/cgi-bin/componentloginpage?');
        expect(pc.body.url).toContain('auth_type=3');
        expect(Date.parse(pc.body.expiresAt)).toBeGreaterThan(fx.hub.deps.clock.now());
        expect(cui.audited.at(-1)).toEqual({
          action: 'components.auth-link',
          target: `app:${fx.app.name}`,
          detail: { type: 'pc' },
          admin: 'root',
        });
        const h5 = await cui.json<{ url: string }>(
          `/admin/api/components/${fx.app.name}/auth-link`,
          {
            method: 'POST',
            body: { type: 'h5' },
          },
        );
        expect(h5.body.url).toContain('/safe/bindcomponent?');
        const sync = await cui.json<Json>(`/admin/api/components/${fx.app.name}/sync`, {
          method: 'POST',
        });
        expect(sync.status).toBe(200);
        expect(sync.body).toMatchObject({ total: 1 });
        expect(cui.audited.at(-1)).toMatchObject({ action: 'components.sync' });

        const before = cui.audited.length;
        const bad = [
          ['/admin/api/authorizers', 'GET', undefined, 400],
          [`/admin/api/authorizers?app=${fx.app.name}&status=maybe`, 'GET', undefined, 400],
          [`/admin/api/authorizers?app=${uniqueName('none')}`, 'GET', undefined, 404],
          [`/admin/api/components/${fx.app.name}/auth-link`, 'POST', { type: 'tv' }, 400],
          [
            `/admin/api/components/${fx.app.name}/auth-link`,
            'POST',
            { type: 'pc', authType: 3, bizAppId: 'wx1234567' },
            400,
          ],
          [`/admin/api/components/${uniqueName('none')}/auth-link`, 'POST', { type: 'pc' }, 404],
          [`/admin/api/components/${fileApp.name}/sync`, 'POST', undefined, 400],
        ] as const;
        for (const [path, method, body, status] of bad) {
          const res = await cui.request(path, { method, ...(body === undefined ? {} : { body }) });
          expect([path, res.status]).toEqual([path, status]);
        }
        expect(cui.audited.length).toBe(before);
      } finally {
        await fx.close();
      }
    });
  });

  it('no answer of any GET route carries a secret or a full token value', async () => {
    const a = newApp({
      token: 'CallbackToken9',
      encodingAesKey: 'B'.repeat(43),
      messageMode: 'safe',
    });
    const key = merchantKeyPair();
    const m = testMerchant(key.privateKeyPem, [newPublicKey()]);
    expect((await ui.request('/admin/api/apps', { method: 'POST', body: a })).status).toBe(201);
    expect((await ui.request('/admin/api/merchants', { method: 'POST', body: m })).status).toBe(
      201,
    );
    const token = async () => {
      const res = await hub.app.request(`/v1/apps/${a.name}/token`, { headers: AUTH });
      return String(((await res.json()) as Json).accessToken);
    };
    const tokens = [await token()];
    const refreshed = await ui.request('/admin/api/credentials/refresh', {
      method: 'POST',
      body: { owner: `app:${a.name}`, kind: 'access_token' },
    });
    expect(refreshed.status).toBe(200);
    tokens.push(await token());
    const stored = await hub.deps.store.messages.insert(
      xmlMessage(a.name, 'x', hub.deps.clock.now(), { encrypted: true }),
      [],
      hub.deps.clock.now(),
    );
    const secrets = [
      a.appSecret ?? '',
      'CallbackToken9',
      'B'.repeat(43),
      m.apiV3Key,
      'PRIVATE KEY',
      ...tokens,
    ];
    const { body: listed } = await ui.json<{ notifications: Json[] }>(
      '/admin/api/pay-notifications',
    );
    const routes = [
      '/admin/api/dashboard',
      '/admin/api/apps',
      '/admin/api/merchants',
      '/admin/api/credentials',
      `/admin/api/credentials?owner=app:${a.name}`,
      `/admin/api/messages?app=${a.name}`,
      `/admin/api/messages/${stored.message.id}`,
      '/admin/api/pay-notifications',
      ...listed.notifications.slice(0, 3).map((n) => `/admin/api/pay-notifications/${n.id}`),
      '/admin/api/outbox?status=pending',
      '/admin/api/outbox?status=dead',
      `/admin/api/authorizers?app=${a.name}`,
    ];
    for (const path of routes) {
      const text = await (await ui.request(path)).text();
      for (const secret of secrets) {
        expect([path, text.includes(secret)]).toEqual([path, false]);
      }
    }
    expect(JSON.stringify(ui.audited)).not.toMatch(
      new RegExp(secrets.map((s) => s.replace(/[^A-Za-z0-9]/g, '.')).join('|')),
    );
  });
});
