import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import type { AppConfig } from '../../shared/config';
import { createLogger } from '../../shared/http/log';
import { listen, type RunningServer } from '../../shared/platform/server';
import {
  type OpenedStore,
  openTestStore,
  rawTableText,
  testTargets,
} from '../../shared/store/testing';
import { testComponentApp } from '../component-fixture';
import { AUTH, createTestHub, type TestHub } from '../testing';

const AUTHORIZER_TOKEN = '/cgi-bin/component/api_authorizer_token';
const LIST = '/cgi-bin/component/api_get_authorizer_list';
const INFO = '/cgi-bin/component/api_get_authorizer_info';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const HOURS_2 = 7200 * 1000;

type TokenBody = { appId: string; accessToken: string; expiresAt: string };
type Entry = {
  appId: string;
  nickName?: string;
  userName?: string;
  status: string;
  funcInfo: number[];
  authorizedAt: string;
  updatedAt: string;
};
type ListBody = { authorizers: Entry[]; total: number };
type ErrorBody = { error: { code: string; message: string; errcode?: number } };

let seq = 0;
/** A fresh authorizer appid per test, in creation order (tests share the file's database). */
const newAuthorizer = () => `wxa${String(Date.now()).slice(-8)}${String(seq++).padStart(5, '0')}`;

describe.each(testTargets())('authorizer directory on $name', (target) => {
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

  /** A component registered in the simulator (no eventUrl: pushes go where a test says). */
  async function setup() {
    const app: AppConfig = testComponentApp();
    const hub: TestHub = await createTestHub(target, { apps: [app], sim });
    const server: RunningServer = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
    const eventUrl = `${server.url}/wx/${app.name}/component/event`;
    sim.sim.registerComponent({
      appId: app.appId,
      secret: app.appSecret ?? '',
      token: app.token ?? '',
      encodingAesKey: AES_KEY,
    });
    await sim.sim.pushTicket(app.appId, eventUrl);
    const req = (path: string, init: RequestInit = {}) =>
      hub.app.request(`/v1/components/${app.name}${path}`, {
        ...init,
        headers: { ...AUTH, ...(init.headers as Record<string, string> | undefined) },
      });
    const tokenOf = (authorizer: string) => req(`/authorizers/${authorizer}/token`);
    const sync = () => req('/authorizers/sync', { method: 'POST' });
    /** Lets the stored authorizer tokens expire; a fresh ticket keeps the component token. */
    const expire = async () => {
      sim.sim.clock.advance(HOURS_2);
      await sim.sim.pushTicket(app.appId, eventUrl);
    };
    const owner = (authorizer: string) => `authorizer:${app.name}:${authorizer}`;
    const stored = async (authorizer: string, kind: string) =>
      (await hub.deps.store.credentials.get({ owner: owner(authorizer), kind }))?.value;
    const close = async () => {
      await server.close();
      await hub.close();
    };
    return { app, hub, eventUrl, req, tokenOf, sync, expire, stored, owner, close };
  }

  it('lists and gets authorizers with names and permission sets, filtered and paged, never a token', async () => {
    const t = await setup();
    const [a, b, c] = [newAuthorizer(), newAuthorizer(), newAuthorizer()];
    try {
      await sim.sim.authorize(t.app.appId, a, { url: t.eventUrl, nickName: 'Shop 小店' });
      await sim.sim.authorize(t.app.appId, b, { url: t.eventUrl });
      await sim.sim.authorize(t.app.appId, c, { url: t.eventUrl });
      await sim.sim.unauthorize(t.app.appId, b, t.eventUrl);
      const served = (await (await t.tokenOf(a)).json()) as TokenBody;
      const refresh = await t.stored(a, 'authorizer_refresh_token');
      expect(refresh).toMatch(/^refreshtoken@@@/);

      const all = await t.req('/authorizers');
      expect(all.status).toBe(200);
      const text = await all.text();
      expect(text).not.toContain(served.accessToken);
      expect(text).not.toContain(refresh ?? 'no refresh token');
      expect(text).not.toMatch(/token/i);
      const body = JSON.parse(text) as ListBody;
      expect(body.total).toBe(3);
      expect(body.authorizers.map((e) => [e.appId, e.status])).toEqual([
        [a, 'authorized'],
        [b, 'revoked'],
        [c, 'authorized'],
      ]);
      const first = body.authorizers[0];
      expect(first).toMatchObject({ appId: a, nickName: 'Shop 小店', funcInfo: [1, 17] });
      expect(first?.userName).toMatch(/^gh_[0-9a-f]{12}$/);
      expect(Date.parse(first?.authorizedAt ?? '')).toBe(sim.sim.clock.now());

      const authorized = (await (
        await t.req('/authorizers?status=authorized&offset=1&limit=1')
      ).json()) as ListBody;
      expect(authorized.total).toBe(2);
      expect(authorized.authorizers.map((e) => e.appId)).toEqual([c]);
      const revoked = (await (await t.req('/authorizers?status=revoked')).json()) as ListBody;
      expect(revoked).toMatchObject({ total: 1, authorizers: [{ appId: b, status: 'revoked' }] });

      const one = await t.req(`/authorizers/${a}`);
      expect(one.status).toBe(200);
      expect(await one.json()).toEqual(first);
      expect(await rawTableText(raw, 'authorizers')).not.toContain(served.accessToken);
      expect(await rawTableText(raw, 'authorizers')).not.toContain(refresh ?? 'no refresh');
    } finally {
      await t.close();
    }
  });

  it('a failing api_get_authorizer_info does not fail the authorization; the entry has no names', async () => {
    const t = await setup();
    const a = newAuthorizer();
    try {
      sim.sim.injectFault({ path: INFO, appId: t.app.appId, errcode: -1 });
      await sim.sim.authorize(t.app.appId, a, { url: t.eventUrl });
      expect(sim.sim.calls(INFO, t.app.appId)).toBe(1);
      expect((await t.tokenOf(a)).status).toBe(200);
      const entry = (await (await t.req(`/authorizers/${a}`)).json()) as Entry;
      expect(entry).toMatchObject({ appId: a, status: 'authorized', funcInfo: [1, 17] });
      expect(entry.nickName).toBeUndefined();
      expect(entry.userName).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('answers 400 for bad status/offset/limit, 404 unknown component or authorizer, 401 without a key', async () => {
    const one = await setup();
    const other = await setup();
    const a = newAuthorizer();
    try {
      await sim.sim.authorize(one.app.appId, a, { url: one.eventUrl });
      for (const q of [
        'status=active',
        'status=authorized,revoked',
        'offset=-1',
        'offset=1.5',
        'offset=abc',
        'limit=0',
        'limit=501',
        'limit=ten',
      ]) {
        const res = await one.req(`/authorizers?${q}`);
        expect(res.status, q).toBe(400);
        expect(((await res.json()) as ErrorBody).error.code).toBe('BAD_REQUEST');
      }
      expect((await one.req('/authorizers?limit=500&offset=0')).status).toBe(200);
      // Empty values, as the contract writes the route, count as not given.
      const empty = await one.req('/authorizers?status=&offset=&limit=');
      expect(empty.status).toBe(200);
      expect(await empty.json()).toEqual(await (await one.req('/authorizers')).json());
      expect((await one.req(`/authorizers/${a}`)).status).toBe(200);
      expect((await one.req(`/authorizers/${newAuthorizer()}`)).status).toBe(404);
      expect((await other.req(`/authorizers/${a}`)).status).toBe(404);
      const foreign = (await (await other.req('/authorizers')).json()) as ListBody;
      expect(foreign).toEqual({ authorizers: [], total: 0 });
      for (const path of ['/v1/components/nope/authorizers', '/v1/components/nope/authorizers/x']) {
        expect((await one.hub.app.request(path, { headers: AUTH })).status).toBe(404);
      }
      const sync = await one.hub.app.request('/v1/components/nope/authorizers/sync', {
        method: 'POST',
        headers: AUTH,
      });
      expect(sync.status).toBe(404);
      const base = `/v1/components/${one.app.name}/authorizers`;
      expect((await one.hub.app.request(base)).status).toBe(401);
      expect((await one.hub.app.request(`${base}/${a}`)).status).toBe(401);
      expect((await one.hub.app.request(`${base}/sync`, { method: 'POST' })).status).toBe(401);
    } finally {
      await one.close();
      await other.close();
    }
  });

  it('sync adds authorizers the hub lacks and recovers a lost refresh token; the token route works', async () => {
    const t = await setup();
    const [known, missed, bare] = [newAuthorizer(), newAuthorizer(), newAuthorizer()];
    try {
      await sim.sim.authorize(t.app.appId, known, { url: t.eventUrl });
      // Authorized while the hub heard nothing (no push): only the list knows them.
      await sim.sim.authorize(t.app.appId, missed);
      await sim.sim.authorize(t.app.appId, bare, { withTokens: false });
      // The hub loses `known`'s refresh token.
      for (const kind of ['authorizer_refresh_token', 'authorizer_access_token']) {
        const key = { owner: t.owner(known), kind };
        await t.hub.deps.store.credentials.clearValue(key, sim.sim.clock.now());
        t.hub.deps.tokens.forget(key);
      }
      expect((await t.tokenOf(known)).status).toBe(409);
      expect((await t.tokenOf(missed)).status).toBe(404);

      const res = await t.sync();
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toMatch(/refreshtoken@@@/);
      expect(JSON.parse(text)).toEqual({ added: 2, updated: 1, total: 3, withoutRefreshToken: 1 });
      expect(sim.sim.calls(LIST, t.app.appId)).toBe(1);

      for (const authorizer of [known, missed]) {
        const got = await t.tokenOf(authorizer);
        expect(got.status).toBe(200);
        expect(sim.sim.isTokenValid(((await got.json()) as TokenBody).accessToken)).toBe(true);
      }
      // Listed without a refresh token: known to the directory, no token to serve.
      expect((await t.tokenOf(bare)).status).toBe(409);
      const list = (await (await t.req('/authorizers')).json()) as ListBody;
      expect(list.authorizers.map((e) => [e.appId, e.status])).toEqual([
        [known, 'authorized'],
        [missed, 'authorized'],
        [bare, 'authorized'],
      ]);
      expect(await rawTableText(raw, 'credentials')).not.toMatch(/refreshtoken@@@/);

      // Nothing left to do the second time.
      const again = (await (await t.sync()).json()) as Record<string, number>;
      expect(again).toEqual({ added: 0, updated: 0, total: 3, withoutRefreshToken: 1 });
    } finally {
      await t.close();
    }
  });

  it('sync leaves a revocation the list has not caught up with, and follows a later authorization', async () => {
    const t = await setup();
    const a = newAuthorizer();
    try {
      await sim.sim.authorize(t.app.appId, a, { url: t.eventUrl });
      sim.sim.clock.advance(60_000);
      // The hub saw `unauthorized`; WeChat's list still shows the old authorization.
      const now = sim.sim.clock.now();
      await t.hub.deps.store.authorizers.markRevoked(t.app.name, a, now);
      await t.hub.deps.store.credentials.put(
        { owner: t.owner(a), kind: 'authorizer_status' },
        { value: 'revoked', expiresAt: Date.UTC(9999, 0, 1) },
        now,
      );
      for (const kind of ['authorizer_refresh_token', 'authorizer_access_token']) {
        await t.hub.deps.store.credentials.clearValue({ owner: t.owner(a), kind }, now);
      }
      t.hub.deps.tokens.forget();
      const stale = (await (await t.sync()).json()) as Record<string, number>;
      expect(stale).toMatchObject({ added: 0, updated: 0, total: 1 });
      expect((await t.tokenOf(a)).status).toBe(410);
      expect(await t.stored(a, 'authorizer_refresh_token')).toBeUndefined();
      // Authorized again later, the push lost: the list's auth_time is after the revocation.
      sim.sim.clock.advance(60_000);
      await sim.sim.authorize(t.app.appId, a);
      const back = (await (await t.sync()).json()) as Record<string, number>;
      expect(back).toMatchObject({ added: 0, updated: 1, total: 1 });
      expect((await t.tokenOf(a)).status).toBe(200);
      const entry = (await (await t.req(`/authorizers/${a}`)).json()) as Entry;
      expect(entry.status).toBe('authorized');
      expect(Date.parse(entry.authorizedAt)).toBe(Math.floor(sim.sim.clock.now() / 1000) * 1000);
    } finally {
      await t.close();
    }
  });

  it('sync pages the list 500 at a time', async () => {
    const t = await setup();
    try {
      for (let i = 0; i < 501; i++) {
        await sim.sim.authorize(t.app.appId, newAuthorizer(), { withTokens: false });
      }
      const res = await t.sync();
      expect(await res.json()).toEqual({
        added: 501,
        updated: 0,
        total: 501,
        withoutRefreshToken: 501,
      });
      expect(sim.sim.calls(LIST, t.app.appId)).toBe(2);
      const last = (await (await t.req('/authorizers?offset=500&limit=500')).json()) as ListBody;
      expect(last.total).toBe(501);
      expect(last.authorizers).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('two syncs at once: one runs, the other answers 409', async () => {
    const t = await setup();
    try {
      await sim.sim.authorize(t.app.appId, newAuthorizer());
      // The first list call is slow, so the winner still holds the lease when the loser asks.
      sim.sim.injectFault({ path: LIST, appId: t.app.appId, delayMs: 500 });
      const answers = await Promise.all([t.sync(), t.sync()]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(sim.sim.calls(LIST, t.app.appId)).toBe(1);
      // The lease is released: the next sync runs.
      expect((await t.sync()).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('61023: the refresh token is recovered from the list with one extra api_authorizer_token call', async () => {
    const t = await setup();
    const a = newAuthorizer();
    try {
      await sim.sim.authorize(t.app.appId, a, { url: t.eventUrl });
      const before = await t.stored(a, 'authorizer_refresh_token');
      const listed = sim.sim.invalidateRefreshToken(t.app.appId, a);
      await t.expire();
      const res = await t.tokenOf(a);
      expect(res.status).toBe(200);
      expect(sim.sim.isTokenValid(((await res.json()) as TokenBody).accessToken)).toBe(true);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, t.app.appId)).toBe(2);
      expect(sim.sim.calls(LIST, t.app.appId)).toBe(1);
      // The listed token was used, and its rotation kept (sealed).
      const now = await t.stored(a, 'authorizer_refresh_token');
      expect(now).not.toBe(before);
      expect(now).not.toBe(listed);
      expect(await rawTableText(raw, 'credentials')).not.toContain(now ?? 'none');
      // Renewals go on normally afterwards.
      await t.expire();
      expect((await t.tokenOf(a)).status).toBe(200);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, t.app.appId)).toBe(3);
    } finally {
      await t.close();
    }
  });

  it('61023 with no working refresh token listed: 502 saying to re-authorize, not revoked, not retried per request', async () => {
    const t = await setup();
    const a = newAuthorizer();
    try {
      await sim.sim.authorize(t.app.appId, a, { url: t.eventUrl });
      sim.sim.invalidateRefreshToken(t.app.appId, a, { listed: false });
      await t.expire();
      const res = await t.tokenOf(a);
      expect(res.status).toBe(502);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.errcode).toBe(61023);
      expect(body.error.message).toMatch(/authorize .* again/);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, t.app.appId)).toBe(1);
      const again = await t.tokenOf(a);
      expect(again.status).toBe(502);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, t.app.appId)).toBe(1);
      const entry = (await (await t.req(`/authorizers/${a}`)).json()) as Entry;
      expect(entry.status).toBe('authorized');
      expect(await t.stored(a, 'authorizer_refresh_token')).toBeDefined();
      // A new authorization heals it.
      await sim.sim.authorize(t.app.appId, a, { url: t.eventUrl, infoType: 'updateauthorized' });
      expect((await t.tokenOf(a)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('61003 while still listed is transient: 502 and nothing changes', async () => {
    const t = await setup();
    const a = newAuthorizer();
    try {
      await sim.sim.authorize(t.app.appId, a, { url: t.eventUrl });
      const refresh = await t.stored(a, 'authorizer_refresh_token');
      await t.expire();
      sim.sim.injectFault({ path: AUTHORIZER_TOKEN, appId: t.app.appId, errcode: 61003 });
      const res = await t.tokenOf(a);
      expect(res.status).toBe(502);
      expect(((await res.json()) as ErrorBody).error.errcode).toBe(61003);
      expect(sim.sim.calls(LIST, t.app.appId)).toBe(1);
      expect(await t.stored(a, 'authorizer_refresh_token')).toBe(refresh);
      const entry = (await (await t.req(`/authorizers/${a}`)).json()) as Entry;
      expect(entry.status).toBe('authorized');
      // Once the recorded failure's backoff is over, the token comes.
      sim.sim.clock.advance(60_000);
      expect((await t.tokenOf(a)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('61003 confirmed by the list: revoked, 410, and no token left in the table', async () => {
    const t = await setup();
    const a = newAuthorizer();
    try {
      await sim.sim.authorize(t.app.appId, a, { url: t.eventUrl });
      const served = (await (await t.tokenOf(a)).json()) as TokenBody;
      const refresh = await t.stored(a, 'authorizer_refresh_token');
      // Revoked at WeChat, but the unauthorized push never reached the hub.
      await sim.sim.unauthorize(t.app.appId, a);
      await t.expire();
      const res = await t.tokenOf(a);
      expect(res.status).toBe(410);
      expect(((await res.json()) as ErrorBody).error.code).toBe('REVOKED');
      expect(sim.sim.calls(LIST, t.app.appId)).toBe(1);
      for (const kind of ['authorizer_refresh_token', 'authorizer_access_token']) {
        expect(await t.stored(a, kind)).toBeUndefined();
      }
      const table = await rawTableText(raw, 'credentials');
      expect(table).not.toContain(served.accessToken);
      expect(table).not.toContain(refresh ?? 'no refresh token');
      const entry = (await (await t.req(`/authorizers/${a}`)).json()) as Entry;
      expect(entry.status).toBe('revoked');
      expect((await t.tokenOf(a)).status).toBe(410);
      expect(sim.sim.calls(AUTHORIZER_TOKEN, t.app.appId)).toBe(1);
    } finally {
      await t.close();
    }
  });
  it('the timer pass, in its batches, recovers 61023 from the list and revokes on a confirmed 61003', async () => {
    const t = await setup();
    const a = newAuthorizer();
    const b = newAuthorizer();
    try {
      await sim.sim.authorize(t.app.appId, a, { url: t.eventUrl });
      await sim.sim.authorize(t.app.appId, b, { url: t.eventUrl });
      sim.sim.invalidateRefreshToken(t.app.appId, a);
      // b revoked at WeChat, its unauthorized push lost.
      await sim.sim.unauthorize(t.app.appId, b);
      // Both tokens inside their renewal window; a fresh ticket keeps the component token.
      sim.sim.clock.advance(HOURS_2 - 5 * 60_000);
      await sim.sim.pushTicket(t.app.appId, t.eventUrl);
      const pass = await t.hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      expect(pass.status).toBe(200);
      // a: the stale refresh token, then the listed one; b: 61003, confirmed by the list.
      expect(sim.sim.calls(AUTHORIZER_TOKEN, t.app.appId)).toBe(3);
      expect(sim.sim.calls(LIST, t.app.appId)).toBe(2);
      const res = await t.tokenOf(a);
      expect(res.status).toBe(200);
      expect(sim.sim.isTokenValid(((await res.json()) as TokenBody).accessToken)).toBe(true);
      expect((await t.tokenOf(b)).status).toBe(410);
      expect(await t.stored(b, 'authorizer_refresh_token')).toBeUndefined();
      expect(sim.sim.calls(AUTHORIZER_TOKEN, t.app.appId)).toBe(3);
    } finally {
      await t.close();
    }
  });
});
