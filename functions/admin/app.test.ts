import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import { sha256 } from '../../shared/admin/sessions';
import type { HubEnv } from '../../shared/http/app';
import { createLogger } from '../../shared/http/log';
import type { TestTarget } from '../../shared/store/testing';
import { rawTableText, testTargets, uniqueName } from '../../shared/store/testing';
import { createTestHub, type TestHub, testApp } from '../testing';
import { createApp } from './app';
import type { AdminEnv } from './types';

const BASE = 'http://localhost';
const ORIGIN = { origin: BASE };
const PASSWORD = 'correct horse battery staple';
const MIN = 60_000;

/** A collecting logger: every line the hub writes, as text. */
function collector() {
  const lines: string[] = [];
  return { lines, log: createLogger('info', { write: (l: string) => lines.push(l) }) };
}

const adminName = () =>
  uniqueName('adm')
    .replace(/[^A-Za-z0-9._@-]/g, '')
    .slice(-40);

/** `wxhub_session=…` from a response's Set-Cookie. */
function sessionCookie(res: Response): string {
  const m = /wxhub_session=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
  if (m === null) throw new Error('no session cookie');
  return `wxhub_session=${m[1]}`;
}

async function call(
  hub: TestHub,
  method: string,
  path: string,
  opts: { cookie?: string; csrf?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...ORIGIN, ...opts.headers };
  if (opts.cookie !== undefined) headers.cookie = opts.cookie;
  if (opts.csrf !== undefined) headers['x-csrf-token'] = opts.csrf;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return hub.app.request(`${BASE}${path}`, {
    method,
    headers,
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
}

const tryLogin = (hub: TestHub, user: string, password: string, headers = {}) =>
  call(hub, 'POST', '/admin/api/login', { body: { user, password }, headers });

/** Signs in: the cookie and the session's CSRF token. */
async function signIn(hub: TestHub, user: string): Promise<{ cookie: string; csrf: string }> {
  const res = await tryLogin(hub, user, PASSWORD);
  expect(res.status).toBe(204);
  const cookie = sessionCookie(res);
  const me = (await (await call(hub, 'GET', '/admin/api/me', { cookie })).json()) as {
    csrfToken: string;
  };
  return { cookie, csrf: me.csrfToken };
}

describe.each(testTargets())('admin session layer on $name', (target: TestTarget) => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  const hubs: TestHub[] = [];
  afterAll(async () => {
    for (const h of hubs) await h.close();
    await sim.close();
  });

  /** A hub whose env admin is `user`; closed after the file's tests. */
  async function hubFor(user: string, opts: Parameters<typeof createTestHub>[1] = {}) {
    const hub = await createTestHub(target, {
      sim,
      ...opts,
      env: { WXHUB_ADMIN_USER: user, WXHUB_ADMIN_PASSWORD: PASSWORD, ...opts.env },
    });
    hubs.push(hub);
    return hub;
  }
  it('signs in with the env admin: an HttpOnly, SameSite=Strict cookie on /admin and a CSRF token', async () => {
    const user = adminName();
    const hub = await hubFor(user);
    const res = await tryLogin(hub, user, PASSWORD);
    expect(res.status).toBe(204);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^wxhub_session=[\w-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/admin');
    expect(cookie).not.toContain('Secure');
    const me = await call(hub, 'GET', '/admin/api/me', { cookie: sessionCookie(res) });
    expect(me.status).toBe(200);
    const body = (await me.json()) as Record<string, unknown>;
    const now = sim.sim.clock.now();
    expect(body).toEqual({
      user: { id: expect.any(Number), name: user },
      csrfToken: expect.stringMatching(/^[\w-]{43}$/),
      expiresAt: new Date(now + 30 * MIN).toISOString(),
    });
    // The database holds the token's hash, never the token.
    const token = sessionCookie(res).slice('wxhub_session='.length);
    expect(await hub.deps.store.admin.session(sha256(token))).toBeDefined();
    const stored = await rawTableText(hub.opened, 'admin_sessions');
    expect(stored).not.toContain(token);
  });

  it('marks the cookie Secure behind https (x-forwarded-proto)', async () => {
    const user = adminName();
    const hub = await hubFor(user);
    const res = await tryLogin(hub, user, PASSWORD, {
      'x-forwarded-proto': 'https',
      origin: 'https://localhost',
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toContain('Secure');
  });

  it('answers the same 401 BAD_LOGIN for a wrong password and an unknown user', async () => {
    const user = adminName();
    const hub = await hubFor(user);
    const wrong = await tryLogin(hub, user, `${PASSWORD}!`);
    const unknown = await tryLogin(hub, `${user}x`, PASSWORD);
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const strip = async (r: Response) => {
      const b = (await r.json()) as { error: { code: string; requestId?: string } };
      return { ...b.error, requestId: undefined };
    };
    const a = await strip(wrong);
    expect(a).toEqual(await strip(unknown));
    expect(a.code).toBe('BAD_LOGIN');
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  it('locks a user after 5 failures spread over 3 instances: 429 on each, even with the right password, logged once', async () => {
    const user = adminName();
    const logs = [collector(), collector(), collector()];
    const three = [
      await hubFor(user, { log: logs[0]?.log }),
      await hubFor(user, { log: logs[1]?.log }),
      await hubFor(user, { log: logs[2]?.log }),
    ];
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const hub = three[i % 3];
      if (hub === undefined) throw new Error('no hub');
      const res = await tryLogin(hub, user, `wrong-password-${i}`, {
        'x-forwarded-for': '203.0.113.9',
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    for (const hub of three) {
      const res = await tryLogin(hub, user, PASSWORD);
      expect(res.status).toBe(429);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('LOCKED');
      expect(body.error.message).not.toMatch(/password/i);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    const all = logs.flatMap((l) => l.lines);
    const locked = all.filter((l) => l.includes('admin login locked'));
    expect(locked).toHaveLength(1);
    expect(locked[0]).toContain(user);
    expect(locked[0]).toContain('203.0.113.9');
    for (const line of all) {
      expect(line).not.toContain(PASSWORD);
      expect(line).not.toContain('wrong-password');
    }
    // Once the failures are older than 15 minutes, the right password works again.
    sim.sim.clock.advance(15 * MIN + 1_000);
    expect((await tryLogin(three[0] as TestHub, user, PASSWORD)).status).toBe(204);
  });

  it('logs the lockout once when failures arrive at once on several instances', async () => {
    const user = adminName();
    const logs = [collector(), collector(), collector()];
    const three = await Promise.all(logs.map((l) => hubFor(user, { log: l.log })));
    const statuses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        tryLogin(three[i % 3] as TestHub, user, `wrong-${i}`).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    const locked = logs.flatMap((l) => l.lines).filter((l) => l.includes('admin login locked'));
    expect(locked).toHaveLength(1);
  });

  it('checks no more than 5 passwords of a burst: 4 failures, then 15 wrong and the right one at once, and none signs in', async () => {
    const user = adminName();
    const hub = await hubFor(user);
    for (let i = 0; i < 4; i += 1)
      expect((await tryLogin(hub, user, `wrong-before-${i}`)).status).toBe(401);
    const burst = await Promise.all([
      ...Array.from({ length: 15 }, (_, i) => tryLogin(hub, user, `wrong-burst-${i}`)),
      tryLogin(hub, user, PASSWORD),
    ]);
    expect(burst.at(-1)?.status).toBe(429);
    const statuses = burst.map((r) => r.status);
    // One attempt is the 5th (its password checked, wrong: 429); the rest are refused unchecked.
    expect(statuses.filter((s) => s === 429)).toHaveLength(16);
    expect(burst.every((r) => r.headers.get('set-cookie') === null)).toBe(true);
    sim.sim.clock.advance(15 * MIN + 1_000);
    expect((await tryLogin(hub, user, PASSWORD)).status).toBe(204);
  });

  it('stops a renamed env admin and its sessions, ends sessions on a password reset, and lets nobody in with no admin configured', async () => {
    const before = adminName();
    const hubA = await hubFor(before);
    const a = await signIn(hubA, before);
    // The admin is renamed: the next start (here, its first login) disables the old account.
    const after = adminName();
    const hubB = await hubFor(after);
    const b = await signIn(hubB, after);
    expect((await tryLogin(hubB, before, PASSWORD)).status).toBe(401);
    expect((await call(hubB, 'GET', '/admin/api/me', { cookie: a.cookie })).status).toBe(401);
    // An instance still configured with the old name refuses it too.
    expect((await tryLogin(hubA, before, PASSWORD)).status).toBe(401);
    expect((await call(hubB, 'GET', '/admin/api/me', { cookie: b.cookie })).status).toBe(200);
    // The password is reset from the environment: the admin's old sessions end.
    const reset = await hubFor(after, { env: { WXHUB_ADMIN_PASSWORD: 'a brand new password' } });
    const res = await tryLogin(reset, after, 'a brand new password');
    expect(res.status).toBe(204);
    expect((await call(hubB, 'GET', '/admin/api/me', { cookie: b.cookie })).status).toBe(401);
    const fresh = sessionCookie(res);
    expect((await call(reset, 'GET', '/admin/api/me', { cookie: fresh })).status).toBe(200);
    // No admin configured: the account in the database does not sign in, nor do its sessions work.
    const none = await createTestHub(target, { sim });
    hubs.push(none);
    expect((await tryLogin(none, after, 'a brand new password')).status).toBe(401);
    expect((await call(none, 'GET', '/admin/api/me', { cookie: fresh })).status).toBe(401);
  });

  it('audits the address the nearest proxy appended to x-forwarded-for, not one the client wrote', async () => {
    const user = adminName();
    const hub = await hubFor(user);
    const res = await tryLogin(hub, user, PASSWORD, { 'x-forwarded-for': '6.6.6.6, 203.0.113.77' });
    expect(res.status).toBe(204);
    const [entry] = await hub.deps.store.admin.listAudit(1);
    expect(entry).toMatchObject({ action: 'login', ip: '203.0.113.77' });
  });

  it('ends a session after 30 idle minutes, and deletes its row', async () => {
    const user = adminName();
    const hub = await hubFor(user);
    const { cookie } = await signIn(hub, user);
    sim.sim.clock.advance(29 * MIN);
    expect((await call(hub, 'GET', '/admin/api/me', { cookie })).status).toBe(200);
    sim.sim.clock.advance(29 * MIN);
    // Used 29 minutes ago: still live (the idle clock restarted).
    expect((await call(hub, 'GET', '/admin/api/me', { cookie })).status).toBe(200);
    sim.sim.clock.advance(31 * MIN);
    const res = await call(hub, 'GET', '/admin/api/me', { cookie });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    const token = cookie.slice('wxhub_session='.length);
    expect(await hub.deps.store.admin.session(sha256(token))).toBeUndefined();
  });

  it('ends a session at its absolute expiry however much it is used', async () => {
    const user = adminName();
    const hub = await hubFor(user, { env: { WXHUB_ADMIN_SESSION_MAX_SECONDS: '3600' } });
    const { cookie } = await signIn(hub, user);
    for (let i = 0; i < 3; i += 1) {
      sim.sim.clock.advance(19 * MIN);
      expect((await call(hub, 'GET', '/admin/api/me', { cookie })).status).toBe(200);
    }
    // 60 minutes after login, used 3 minutes ago.
    sim.sim.clock.advance(3 * MIN);
    expect((await call(hub, 'GET', '/admin/api/me', { cookie })).status).toBe(401);
    const token = cookie.slice('wxhub_session='.length);
    expect(await hub.deps.store.admin.session(sha256(token))).toBeUndefined();
  });

  it('logs out: the row is deleted, the cookie cleared, the old cookie refused', async () => {
    const user = adminName();
    const hub = await hubFor(user);
    const { cookie, csrf } = await signIn(hub, user);
    const res = await call(hub, 'POST', '/admin/api/logout', { cookie, csrf });
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toMatch(/wxhub_session=;.*Max-Age=0/);
    const token = cookie.slice('wxhub_session='.length);
    expect(await hub.deps.store.admin.session(sha256(token))).toBeUndefined();
    expect((await call(hub, 'GET', '/admin/api/me', { cookie })).status).toBe(401);
  });

  it('refuses a write without the CSRF token or from another origin (403 CSRF), and a read without a session (401)', async () => {
    const user = adminName();
    const hub = await hubFor(user);
    const { cookie, csrf } = await signIn(hub, user);
    const body = { name: 'ci' };
    const code = async (r: Response) =>
      ((await r.json()) as { error: { code: string } }).error.code;
    const noToken = await call(hub, 'POST', '/admin/api/keys', { cookie, body });
    expect(noToken.status).toBe(403);
    expect(await code(noToken)).toBe('CSRF');
    const wrongToken = await call(hub, 'POST', '/admin/api/keys', {
      cookie,
      csrf: `${csrf}x`,
      body,
    });
    expect(wrongToken.status).toBe(403);
    const evil = { origin: 'https://evil.example' };
    const otherOrigin = await call(hub, 'POST', '/admin/api/keys', {
      cookie,
      csrf,
      body,
      headers: evil,
    });
    expect(otherOrigin.status).toBe(403);
    expect(await code(otherOrigin)).toBe('CSRF');
    const loginElsewhere = await tryLogin(hub, user, PASSWORD, evil);
    expect(loginElsewhere.status).toBe(403);
    const noSession = await call(hub, 'GET', '/admin/api/keys');
    expect(noSession.status).toBe(401);
    expect(await code(noSession)).toBe('UNAUTHORIZED');
    const ok = await call(hub, 'POST', '/admin/api/keys', { cookie, csrf, body });
    expect(ok.status).toBe(201);
  });

  it('signs in only from its own page (Origin, else Sec-Fetch-Site: same-origin), and takes write bodies only as JSON (415)', async () => {
    const user = adminName();
    const hub = await hubFor(user);
    const body = JSON.stringify({ user, password: PASSWORD });
    const json = { 'content-type': 'application/json' };
    const bare = (headers: Record<string, string>, text = body) =>
      hub.app.request(`${BASE}/admin/api/login`, { method: 'POST', headers, body: text });
    const code = async (r: Response) =>
      ((await r.json()) as { error: { code: string } }).error.code;
    const noOrigin = await bare(json);
    expect(noOrigin.status).toBe(403);
    expect(await code(noOrigin)).toBe('CSRF');
    expect(noOrigin.headers.get('set-cookie')).toBeNull();
    expect((await bare({ ...json, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await bare({ ...json, 'sec-fetch-site': 'same-origin' })).status).toBe(204);
    // A form or text body (which a page elsewhere can send without a preflight): 415.
    const form = await bare(
      { ...ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      `user=${user}&password=x`,
    );
    expect(form.status).toBe(415);
    expect(await code(form)).toBe('UNSUPPORTED_MEDIA_TYPE');
    const { cookie, csrf } = await signIn(hub, user);
    const plain = await hub.app.request(`${BASE}/admin/api/keys`, {
      method: 'POST',
      headers: { ...ORIGIN, cookie, 'x-csrf-token': csrf, 'content-type': 'text/plain' },
      body: JSON.stringify({ name: `plain ${user}` }),
    });
    expect(plain.status).toBe(415);
    const keys = await hub.deps.store.admin.listApiKeys();
    expect(keys.some((k) => k.name === `plain ${user}`)).toBe(false);
    // A write without a body needs no content type.
    expect((await call(hub, 'POST', '/admin/api/logout', { cookie, csrf })).status).toBe(204);
  });

  it('makes API keys that work on internal routes until revoked, records last use, audits every write, and never stores or logs the key', async () => {
    const user = adminName();
    const app = testApp();
    const logA = collector();
    const logB = collector();
    const hub = await hubFor(user, { apps: [app], log: logA.log });
    const other = await hubFor(user, { log: logB.log });
    const { cookie, csrf } = await signIn(hub, user);
    const made = await call(hub, 'POST', '/admin/api/keys', {
      cookie,
      csrf,
      body: { name: 'billing service' },
    });
    expect(made.status).toBe(201);
    const { id, key, name } = (await made.json()) as { id: number; key: string; name: string };
    expect(name).toBe('billing service');
    expect(key).toMatch(/^wxk_[\w-]{43}$/);
    const bearer = { authorization: `Bearer ${key}` };

    const token = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: bearer });
    expect(token.status).toBe(200);
    expect(((await token.json()) as { accessToken: string }).accessToken).toBeTruthy();
    // Another instance takes it too; /openapi.json and /metrics are internal routes.
    expect(
      (await other.app.request(`/v1/apps/${app.name}/token`, { headers: bearer })).status,
    ).toBe(200);
    expect((await other.app.request('/openapi.json')).status).toBe(401);
    expect((await other.app.request('/metrics')).status).toBe(401);
    expect((await other.app.request('/metrics', { headers: bearer })).status).toBe(200);
    const typo = { authorization: `Bearer ${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}` };
    expect((await hub.app.request(`/v1/apps/${app.name}/token`, { headers: typo })).status).toBe(
      401,
    );

    const listed = await call(hub, 'GET', '/admin/api/keys', { cookie });
    const keys = ((await listed.json()) as { keys: Record<string, unknown>[] }).keys;
    const row = keys.find((k) => k.id === id);
    expect(row).toMatchObject({
      name: 'billing service',
      prefix: `wxk_...${key.slice(-4)}`,
      lastUsedAt: new Date(sim.sim.clock.now()).toISOString(),
      revokedAt: null,
    });
    expect(JSON.stringify(keys)).not.toContain(key);

    const revoked = await call(hub, 'DELETE', `/admin/api/keys/${id}`, { cookie, csrf });
    expect(revoked.status).toBe(204);
    // This instance at once; another instance within a second.
    expect((await hub.app.request(`/v1/apps/${app.name}/token`, { headers: bearer })).status).toBe(
      401,
    );
    sim.sim.clock.advance(1_000);
    expect(
      (await other.app.request(`/v1/apps/${app.name}/token`, { headers: bearer })).status,
    ).toBe(401);
    expect((await call(hub, 'DELETE', '/admin/api/keys/999999', { cookie, csrf })).status).toBe(
      404,
    );

    expect((await call(hub, 'POST', '/admin/api/logout', { cookie, csrf })).status).toBe(204);
    // The audit was read by another session: login, keys.create, keys.revoke, logout.
    const again = await signIn(hub, user);
    const audit = await call(hub, 'GET', '/admin/api/audit?limit=50', { cookie: again.cookie });
    const entries = ((await audit.json()) as { entries: Record<string, unknown>[] }).entries;
    const mine = entries.filter((e) => (e.actor as { name?: string } | null)?.name === user);
    expect(mine.map((e) => e.action).reverse()).toEqual([
      'login',
      'keys.create',
      'keys.revoke',
      'logout',
      'login',
    ]);
    expect(mine.find((e) => e.action === 'keys.create')).toMatchObject({
      target: `key:${id}`,
      detail: { name: 'billing service', prefix: `wxk_...${key.slice(-4)}` },
      at: expect.stringMatching(/Z$/),
    });
    const opened = hub.opened;
    const secrets = [key, key.slice(10), PASSWORD, cookie.slice('wxhub_session='.length)];
    for (const table of ['admin_audit', 'api_keys', 'admin_sessions', 'admin_users']) {
      const text = await rawTableText(opened, table);
      for (const s of secrets) expect(text, table).not.toContain(s);
    }
    for (const line of [...logA.lines, ...logB.lines]) {
      for (const s of secrets) expect(line).not.toContain(s);
    }
  });

  it('mounts extra admin routes behind the guard, with an audit for their writes', async () => {
    const user = adminName();
    const hub = await hubFor(user);
    const app = createApp(hub.deps, {
      api: (guard) =>
        new Hono<AdminEnv>().post('/admin/api/things', async (c) => {
          await guard.audit(c, { action: 'things.create', target: 'thing:1', detail: { n: 1 } });
          return c.json({ by: c.get('admin').name });
        }),
      pages: new Hono<HubEnv>().get('/admin/', (c) => c.text('console')),
    });
    const through = { ...hub, app };
    expect((await app.request(`${BASE}/admin/`)).status).toBe(200);
    expect((await call(through, 'POST', '/admin/api/things')).status).toBe(401);
    const { cookie, csrf } = await signIn(through, user);
    expect((await call(through, 'POST', '/admin/api/things', { cookie })).status).toBe(403);
    const ok = await call(through, 'POST', '/admin/api/things', { cookie, csrf });
    expect(await ok.json()).toEqual({ by: user });
    const entries = await hub.deps.store.admin.listAudit(5);
    expect(entries[0]).toMatchObject({
      action: 'things.create',
      target: 'thing:1',
      actor: { name: user },
      detail: { n: 1 },
    });
  });
  it('serves the console data routes in the hub itself, behind the session layer, audited', async () => {
    const user = adminName();
    const hub = await hubFor(user);
    expect((await call(hub, 'GET', '/admin/api/dashboard')).status).toBe(401);
    expect((await call(hub, 'POST', '/admin/api/outbox/1/discard')).status).toBe(401);
    const { cookie, csrf } = await signIn(hub, user);
    const dash = await call(hub, 'GET', '/admin/api/dashboard', { cookie });
    expect(dash.status).toBe(200);
    expect(await dash.json()).toMatchObject({ outbox: { pending: 0, dead: 0 } });
    const name = uniqueName('cons').slice(-40);
    const body = {
      name,
      kind: 'official',
      appId: 'wx0123456789abcdef',
      appSecret: 's3cret-value-9',
    };
    expect((await call(hub, 'POST', '/admin/api/apps', { cookie, body })).status).toBe(403);
    expect((await call(hub, 'POST', '/admin/api/apps', { cookie, csrf, body })).status).toBe(201);
    const entries = await hub.deps.store.admin.listAudit(5);
    expect(entries[0]).toMatchObject({
      action: expect.stringContaining('app'),
      actor: { name: user },
    });
    expect(JSON.stringify(entries)).not.toContain('s3cret-value-9');
  });
});
