import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import { AUTHORIZER_BATCH } from '../../shared/component/authorizer-pass';
import { NO_EXPIRY, onUnauthorized } from '../../shared/component/authorizers';
import type { AppConfig } from '../../shared/config';
import { createLogger } from '../../shared/http/log';
import { listen, type RunningServer } from '../../shared/platform/server';
import {
  countedStore,
  type OpenedStore,
  openTestStore,
  rawTableText,
  testTargets,
} from '../../shared/store/testing';
import { runRefreshPass } from '../../shared/tokens/refresh-pass';
import { testComponentApp } from '../component-fixture';
import { AUTH, createTestHub, type TestHub } from '../testing';

const QUERY_AUTH = '/cgi-bin/component/api_query_auth';
const AUTHORIZER_TOKEN = '/cgi-bin/component/api_authorizer_token';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

type TokenBody = { appId: string; accessToken: string; expiresAt: string };

let seq = 0;
/** A fresh authorizer appid per test (tests share the file's database). */
const newAuthorizer = () => `wxa${String(Date.now()).slice(-8)}${String(seq++).padStart(5, '0')}`;

describe.each(testTargets())('third-party platform authorizers on $name', (target) => {
  let sim: RunningSimulator;
  let raw: OpenedStore;
  beforeAll(async () => {
    sim = await startSimulator();
    raw = await openTestStore(target);
  });
  afterAll(async () => {
    await raw.store.close();
    await sim.close();
  });

  /** A component app registered in the simulator, and `n` hubs serving it over real HTTP. */
  async function setup(n = 1, hubFetch?: typeof fetch) {
    const app: AppConfig = testComponentApp();
    const hubs: { hub: TestHub; server: RunningServer }[] = [];
    for (let i = 0; i < n; i++) {
      const hub = await createTestHub(target, {
        apps: [app],
        sim,
        ...(hubFetch === undefined ? {} : { fetch: hubFetch }),
      });
      const server = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
      hubs.push({ hub, server });
    }
    const eventUrl = (i = 0) => `${hubs[i]?.server.url}/wx/${app.name}/component/event`;
    sim.sim.registerComponent({
      appId: app.appId,
      secret: app.appSecret ?? '',
      token: app.token ?? '',
      encodingAesKey: AES_KEY,
    });
    await sim.sim.pushTicket(app.appId, eventUrl());
    const close = async () => {
      for (const h of hubs) {
        await h.server.close();
        await h.hub.close();
      }
    };
    const tokenOf = (authorizer: string, i = 0, headers: Record<string, string> = AUTH) => {
      const hub = hubs[i]?.hub;
      if (hub === undefined) throw new Error('no hub');
      return hub.app.request(`/v1/components/${app.name}/authorizers/${authorizer}/token`, {
        headers,
      });
    };
    return { app, hubs, eventUrl, close, tokenOf };
  }

  it('an authorized push delivered 3 times at once is exchanged once; its token is served and works', async () => {
    const { app, hubs, eventUrl, close, tokenOf } = await setup();
    const authorizer = newAuthorizer();
    try {
      const before = sim.sim.calls(QUERY_AUTH, app.appId);
      const pushed = await sim.sim.authorize(app.appId, authorizer, {
        url: eventUrl(),
        deliveries: 3,
      });
      expect(pushed.deliveries?.map((d) => d.body)).toEqual(['success', 'success', 'success']);
      expect(sim.sim.calls(QUERY_AUTH, app.appId)).toBe(before + 1);
      // The single-use code and the pre-auth code are stored (and forwarded) as placeholders.
      const rows =
        (await hubs[0]?.hub.deps.store.messages.search({ app: app.name, limit: 5 })) ?? [];
      const stored = rows.find((m) => m.parsed.InfoType === 'authorized');
      expect(stored?.parsed).toMatchObject({
        InfoType: 'authorized',
        AuthorizationCode: '(redacted by wxhub)',
        PreAuthCode: '(redacted by wxhub)',
      });
      const messages = await rawTableText(raw, 'callback_messages');
      expect(messages).not.toContain(pushed.code);
      expect(messages).not.toContain('preauthcode@@@');
      const res = await tokenOf(authorizer);
      expect(res.status).toBe(200);
      const body = (await res.json()) as TokenBody;
      expect(body.appId).toBe(authorizer);
      expect(sim.sim.isTokenValid(body.accessToken)).toBe(true);
      expect(Date.parse(body.expiresAt) - sim.sim.clock.now()).toBe(7200 * 1000);
      // Served from the stored token: no api_authorizer_token call yet, none sealed in the clear.
      expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(0);
      expect(await rawTableText(raw, 'credentials')).not.toContain(body.accessToken);
    } finally {
      await close();
    }
  });

  it('stores an authorization without tokens; its token route answers 409, not an error 5xx', async () => {
    const { app, eventUrl, close, tokenOf } = await setup();
    const authorizer = newAuthorizer();
    try {
      const pushed = await sim.sim.authorize(app.appId, authorizer, {
        url: eventUrl(),
        withTokens: false,
      });
      expect(pushed.body).toBe('success');
      const res = await tokenOf(authorizer);
      expect(res.status).toBe(409);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(0);
    } finally {
      await close();
    }
  });

  it('a failed exchange still answers success and is retried on the next delivery', async () => {
    const { app, eventUrl, close, tokenOf } = await setup();
    const authorizer = newAuthorizer();
    try {
      sim.sim.injectFault({ path: QUERY_AUTH, appId: app.appId, errcode: -1 });
      const failed = await sim.sim.authorize(app.appId, authorizer, { url: eventUrl() });
      expect(failed.body).toBe('success');
      expect((await tokenOf(authorizer)).status).toBe(404);
      await sim.sim.authorize(app.appId, authorizer, { url: eventUrl() });
      expect((await tokenOf(authorizer)).status).toBe(200);
    } finally {
      await close();
    }
  });

  it('after expiry 3 hubs refresh with api_authorizer_token once and keep the rotated refresh token', async () => {
    const { app, eventUrl, close, tokenOf } = await setup(3);
    const authorizer = newAuthorizer();
    try {
      await sim.sim.authorize(app.appId, authorizer, { url: eventUrl() });
      const first = (await (await tokenOf(authorizer)).json()) as TokenBody;
      sim.sim.clock.advance(7200 * 1000);
      // The component token expired too; keep a ticket fresh for it.
      await sim.sim.pushTicket(app.appId, eventUrl());
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => tokenOf(authorizer, i % 3)),
      );
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
      const bodies = await Promise.all(answers.map((r) => r.json() as Promise<TokenBody>));
      expect(new Set(bodies.map((b) => b.accessToken)).size).toBe(1);
      expect(bodies[0]?.accessToken).not.toBe(first.accessToken);
      expect(sim.sim.isTokenValid(bodies[0]?.accessToken ?? '')).toBe(true);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(1);
      // The rotated refresh token was kept: once the old one's 5 minutes are over, it still works.
      sim.sim.clock.advance(7200 * 1000);
      await sim.sim.pushTicket(app.appId, eventUrl());
      const again = await tokenOf(authorizer);
      expect(again.status).toBe(200);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(2);
    } finally {
      await close();
    }
  });

  it('the refresh pass renews an authorizer token inside its last 10 minutes, and not a revoked one', async () => {
    const { app, eventUrl, close, tokenOf, hubs } = await setup();
    const kept = newAuthorizer();
    const gone = newAuthorizer();
    const hub = hubs[0]?.hub;
    if (hub === undefined) throw new Error('no hub');
    try {
      await sim.sim.authorize(app.appId, kept, { url: eventUrl() });
      await sim.sim.authorize(app.appId, gone, { url: eventUrl() });
      const first = (await (await tokenOf(kept)).json()) as TokenBody;
      await sim.sim.unauthorize(app.appId, gone, eventUrl());
      sim.sim.clock.advance(7200_000 - 5 * 60_000);
      const pass = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      const summary = (await pass.json()) as { failed: { app: string; credential: string }[] };
      expect(summary.failed.filter((f) => f.app === app.name)).toEqual([]);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(1);
      const fresh = (await (await tokenOf(kept)).json()) as TokenBody;
      expect(fresh.accessToken).not.toBe(first.accessToken);
      expect(sim.sim.isTokenValid(fresh.accessToken)).toBe(true);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(1);
      expect((await tokenOf(gone)).status).toBe(410);
    } finally {
      await close();
    }
  });

  it('unauthorized acted on while the pass fetches the token keeps no token: the answer is not written back', async () => {
    const { app, eventUrl, close, tokenOf, hubs } = await setup();
    const authorizer = newAuthorizer();
    const hub = hubs[0]?.hub;
    if (hub === undefined) throw new Error('no hub');
    try {
      await sim.sim.authorize(app.appId, authorizer, { url: eventUrl() });
      expect((await tokenOf(authorizer)).status).toBe(200);
      sim.sim.clock.advance(7200_000 - 5 * 60_000);
      // WeChat's answer to the pass's api_authorizer_token is on its way (slowly) when the
      // hub acts on the authorizer's unauthorized push.
      sim.sim.injectFault({ path: AUTHORIZER_TOKEN, delayMs: 600 });
      const running = runRefreshPass({ ...hub.deps, refreshAheadSeconds: undefined });
      await new Promise((r) => setTimeout(r, 200));
      await onUnauthorized(hub.deps, await hub.deps.apps.require(app.name), {
        AuthorizerAppid: authorizer,
      });
      await running;
      expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(1);
      const owner = `authorizer:${app.name}:${authorizer}`;
      for (const kind of ['authorizer_refresh_token', 'authorizer_access_token']) {
        const row = await hub.deps.store.credentials.get({ owner, kind });
        expect(row?.value, kind).toBeUndefined();
      }
      expect((await tokenOf(authorizer)).status).toBe(410);
    } finally {
      await close();
    }
  });

  it('unauthorized answers 410 REVOKED and leaves no token or refresh token in the table', async () => {
    const { app, eventUrl, close, tokenOf, hubs } = await setup();
    const authorizer = newAuthorizer();
    try {
      const { code } = await sim.sim.authorize(app.appId, authorizer, { url: eventUrl() });
      expect(code).toBeDefined();
      const served = (await (await tokenOf(authorizer)).json()) as TokenBody;
      const owner = `authorizer:${app.name}:${authorizer}`;
      const store = hubs[0]?.hub.deps.store;
      const refresh = await store?.credentials.get({ owner, kind: 'authorizer_refresh_token' });
      expect(refresh?.value).toMatch(/^refreshtoken@@@/);
      const revoked = await sim.sim.unauthorize(app.appId, authorizer, eventUrl());
      expect(revoked.body).toBe('success');
      const res = await tokenOf(authorizer);
      expect(res.status).toBe(410);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('REVOKED');
      for (const kind of ['authorizer_refresh_token', 'authorizer_access_token']) {
        expect((await store?.credentials.get({ owner, kind }))?.value).toBeUndefined();
      }
      const table = await rawTableText(raw, 'credentials');
      expect(table).not.toContain(served.accessToken);
      expect(table).not.toContain(refresh?.value ?? 'no refresh token');
    } finally {
      await close();
    }
  });

  it('unauthorized arriving while the code is exchanged ends revoked, with no token stored', async () => {
    // The hub's api_query_auth answer is held back until the revocation has been stored.
    let reached = () => {};
    const answered = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hubFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).includes(QUERY_AUTH)) {
        reached();
        await held;
      }
      return res;
    };
    const { app, eventUrl, close, tokenOf, hubs } = await setup(1, hubFetch);
    const authorizer = newAuthorizer();
    try {
      const pushing = sim.sim.authorize(app.appId, authorizer, { url: eventUrl() });
      await answered;
      const revoked = await sim.sim.unauthorize(app.appId, authorizer, eventUrl());
      expect(revoked.body).toBe('success');
      release();
      expect((await pushing).body).toBe('success');
      const res = await tokenOf(authorizer);
      expect(res.status).toBe(410);
      const owner = `authorizer:${app.name}:${authorizer}`;
      const store = hubs[0]?.hub.deps.store;
      for (const kind of ['authorizer_refresh_token', 'authorizer_access_token']) {
        expect((await store?.credentials.get({ owner, kind }))?.value).toBeUndefined();
      }
      // Authorizing again afterwards (a new code) is stored: the revocation was not "later".
      await sim.sim.authorize(app.appId, authorizer, { url: eventUrl() });
      expect((await tokenOf(authorizer)).status).toBe(200);
    } finally {
      release();
      await close();
    }
  });

  it('answers 404 for an unknown authorizer or one of another component, 401 without a key', async () => {
    const one = await setup();
    const other = await setup();
    const authorizer = newAuthorizer();
    try {
      await sim.sim.authorize(one.app.appId, authorizer, { url: one.eventUrl() });
      expect((await one.tokenOf(authorizer)).status).toBe(200);
      expect((await one.tokenOf(newAuthorizer())).status).toBe(404);
      expect((await other.tokenOf(authorizer)).status).toBe(404);
      expect((await one.tokenOf(authorizer, 0, {})).status).toBe(401);
    } finally {
      await one.close();
      await other.close();
    }
  });

  it("a revoked authorizer's cleared rows are not selected by the pass (checked unchanged)", async () => {
    const { app, eventUrl, close, hubs } = await setup();
    const hub = hubs[0]?.hub;
    if (hub === undefined) throw new Error('no hub');
    const authorizer = newAuthorizer();
    const pass = async () => {
      const res = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      return (await res.json()) as { checked: number };
    };
    try {
      await sim.sim.authorize(app.appId, authorizer, { url: eventUrl() });
      // Twice: the first may renew what earlier tests left due; the second is the steady count.
      await pass();
      const before = await pass();
      await sim.sim.unauthorize(app.appId, authorizer, eventUrl());
      const after = await pass();
      expect(after.checked).toBe(before.checked);
    } finally {
      await close();
    }
  });

  it('the pass renews 250 due authorizers once each in batches: no store read per authorizer, rotated refresh tokens kept', async () => {
    const { app, close, hubs } = await setup();
    const hub = hubs[0]?.hub;
    if (hub === undefined) throw new Error('no hub');
    const store = hub.deps.store;
    const now = sim.sim.clock.now();
    const ids = Array.from({ length: 250 }, () => newAuthorizer());
    try {
      await store.credentials.transaction(async (repo) => {
        for (const [i, id] of ids.entries()) {
          const owner = `authorizer:${app.name}:${id}`;
          const refresh = `refreshtoken@@@seed-${id}`;
          sim.sim.grantAuthorizer(app.appId, id, refresh);
          await repo.put(
            { owner, kind: 'authorizer_refresh_token' },
            { value: refresh, expiresAt: NO_EXPIRY },
            now,
          );
          // Due within the next 10 minutes, spread over them.
          const expiresAt = now + 60_000 + i * 2_000;
          await repo.put(
            { owner, kind: 'authorizer_access_token' },
            { value: `seed-${i}`, expiresAt },
            now,
          );
        }
      });
      // Store calls of the pass, by method.
      const { store: counted, counts } = countedStore(store);
      const deps = { ...hub.deps, store: counted };
      const run = () => runRefreshPass({ ...deps, refreshAheadSeconds: undefined });
      const before = sim.sim.calls(AUTHORIZER_TOKEN, app.appId);
      const first = await run();
      expect(first.failed.filter((f) => f.app === app.name)).toEqual([]);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(before + 250);
      // Per batch, not per authorizer: the one-row read and write are not used.
      // (a few reads and leases are per component of this file's database, whatever their size)
      expect(counts.get('get') ?? 0).toBeLessThan(50);
      expect(counts.get('claimLease') ?? 0).toBeLessThan(50);
      expect(counts.get('claimDueLeases')).toBe(Math.ceil(250 / AUTHORIZER_BATCH));
      // Nothing is due again until the new tokens' last 10 minutes: then each is renewed once
      // more, with the rotated refresh tokens the first pass stored.
      expect((await run()).refreshed).toBe(0);
      sim.sim.clock.advance(7200_000 - 5 * 60_000);
      await sim.sim.pushTicket(app.appId, `${hubs[0]?.server.url}/wx/${app.name}/component/event`);
      const second = await run();
      expect(second.failed.filter((f) => f.app === app.name)).toEqual([]);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, app.appId)).toBe(before + 500);
      const token = await store.credentials.get({
        owner: `authorizer:${app.name}:${ids[0]}`,
        kind: 'authorizer_access_token',
      });
      expect(sim.sim.isTokenValid(token?.value ?? '')).toBe(true);
    } finally {
      await close();
    }
  });

  it('a burst of due authorizer tokens is spread over the passes of their window; the urgent ones all go first', async () => {
    const { app, close, hubs } = await setup();
    const hub = hubs[0]?.hub;
    if (hub === undefined) throw new Error('no hub');
    const store = hub.deps.store;
    const now = sim.sim.clock.now();
    const ids = Array.from({ length: 150 }, () => newAuthorizer());
    try {
      await store.credentials.transaction(async (repo) => {
        for (const [i, id] of ids.entries()) {
          const owner = `authorizer:${app.name}:${id}`;
          const refresh = `refreshtoken@@@seed-${id}`;
          sim.sim.grantAuthorizer(app.appId, id, refresh);
          await repo.put(
            { owner, kind: 'authorizer_refresh_token' },
            { value: refresh, expiresAt: NO_EXPIRY },
            now,
          );
          // 50 with 3 minutes left (urgent), 100 with 8 minutes left.
          const expiresAt = now + (i < 50 ? 3 : 8) * 60_000;
          await repo.put(
            { owner, kind: 'authorizer_access_token' },
            { value: `seed-${i}`, expiresAt },
            now,
          );
        }
      });
      const run = () =>
        runRefreshPass({ ...hub.deps, refreshAheadSeconds: undefined, authorizersPerPass: 40 });
      const calls = () => sim.sim.calls(AUTHORIZER_TOKEN, app.appId);
      const before = calls();
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        const summary = await run();
        expect(summary.failed.filter((f) => f.app === app.name)).toEqual([]);
        counts.push(calls() - before);
      }
      expect(counts).toEqual([90, 130, 150, 150]);
    } finally {
      await close();
    }
  });
});
