import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simSuiteOf } from '../../dev/demo-suite';
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
import { aesKeyOf, encryptMessage, wechatSignature } from '../../shared/wechat/message-crypto';
import { AUTH, createTestHub, type TestHub } from '../testing';
import { startTarget } from '../wx-callback/testing';
import { testSuiteApp } from './testing';

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const Q = '/qyapi/cgi-bin/service';
const SUITE_TOKEN = `${Q}/get_suite_token`;
const PERMANENT_CODE = `${Q}/v2/get_permanent_code`;
const CORP_TOKEN = `${Q}/get_corp_token`;
const SESSION_INFO = `${Q}/set_session_info`;

/** A suite app (unique name, suite id and provider corpid). */
const suiteApp = (over: Partial<AppConfig> = {}) => testSuiteApp('suite', over);

type CorpTokenBody = { corpId: string; accessToken: string; expiresAt: string };

describe.each(testTargets())('WeCom suites on $name', (target) => {
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

  /** Hubs on real HTTP (the simulator pushes to the first), the suite registered in the simulator. */
  async function serve(app: AppConfig, instances = 1) {
    const hubs: { hub: TestHub; server: RunningServer }[] = [];
    for (let i = 0; i < instances; i++) {
      const hub = await createTestHub(target, { apps: [app], sim, instanceId: `hub-${i}` });
      hubs.push({ hub, server: await listen(hub.app, 0, createLogger('silent'), '127.0.0.1') });
    }
    const base = `${hubs[0]?.server.url}/wx/${app.name}/suite`;
    sim.sim.wecomSuites.register(simSuiteOf(app, `${hubs[0]?.server.url}`));
    const first = hubs[0] as { hub: TestHub; server: RunningServer };
    return {
      ...first,
      hubs,
      base,
      async close() {
        for (const h of hubs) {
          await h.server.close();
          await h.hub.close();
        }
      },
    };
  }

  const get = (hub: TestHub, path: string) => hub.app.request(path, { headers: AUTH });
  const corpRows = (hub: TestHub, app: AppConfig, corpId: string) =>
    hub.deps.store.credentials.list({ owner: `authorizer:${app.name}:${corpId}`, limit: 50 });

  /** Waits (real time) until the corp's token route answers `status`. */
  async function until(hub: TestHub, app: AppConfig, corpId: string, status: number) {
    for (let i = 0; i < 100; i++) {
      const res = await get(hub, `/v1/suites/${app.name}/corps/${corpId}/token`);
      if (res.status === status) return res;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`corp ${corpId} never answered ${status}`);
  }

  it('answers 409 NO_TICKET until WeCom pushed a ticket, then serves the suite token (one call)', async () => {
    const app = suiteApp();
    const s = await serve(app);
    try {
      const before = await get(s.hub, `/v1/suites/${app.name}/token`);
      expect(before.status).toBe(409);
      expect(((await before.json()) as { error: { code: string } }).error.code).toBe('NO_TICKET');
      expect(sim.sim.calls(SUITE_TOKEN, app.appId)).toBe(0);

      const pushed = await sim.sim.wecomSuites.pushTicket(app.appId);
      expect(pushed).toMatchObject({ status: 200, body: 'success' });
      // Kept sealed: in the clear in no table (stored message, credentials).
      for (const table of ['credentials', 'callback_messages']) {
        expect(await rawTableText(raw, table)).not.toContain(pushed.ticket);
      }
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => get(s.hub, `/v1/suites/${app.name}/token`)),
      );
      const bodies = await Promise.all(
        answers.map(async (r) => {
          expect(r.status).toBe(200);
          return (await r.json()) as { suiteId: string; accessToken: string; expiresAt: string };
        }),
      );
      expect(new Set(bodies.map((b) => b.accessToken)).size).toBe(1);
      expect(bodies[0]?.suiteId).toBe(app.appId);
      expect(Date.parse(bodies[0]?.expiresAt ?? '') - sim.sim.clock.now()).toBe(7200 * 1000);
      expect(sim.sim.calls(SUITE_TOKEN, app.appId)).toBe(1);

      // 31 minutes later the ticket is too old: without a new push, NO_TICKET again.
      sim.sim.clock.advance(31 * 60_000);
      sim.sim.wecomSuites.killToken(bodies[0]?.accessToken ?? '');
      await s.hub.deps.store.credentials.clearValue(
        { owner: `app:${app.name}`, kind: 'suite_access_token' },
        sim.sim.clock.now(),
      );
      s.hub.deps.tokens.forget({ owner: `app:${app.name}`, kind: 'suite_access_token' });
      expect((await get(s.hub, `/v1/suites/${app.name}/token`)).status).toBe(409);
    } finally {
      await s.close();
    }
  });

  it('verifies both URLs with the provider corpid; a wrong signature is 401 and stores nothing', async () => {
    const app = suiteApp();
    const s = await serve(app);
    try {
      const command = await sim.sim.wecomSuites.verifyUrl(app.appId, `${s.base}/command`);
      expect(command).toMatchObject({ status: 200, ok: true });
      const data = await sim.sim.wecomSuites.verifyUrl(app.appId, `${s.base}/data/wwcorp1`);
      expect(data).toMatchObject({ status: 200, ok: true });
      // An echostr for another ReceiveId (the suite id) does not verify.
      const other = await sim.sim.wecomSuites.verifyUrl(app.appId, `${s.base}/command`, app.appId);
      expect(other.status).toBe(400);

      // A ticket push with a bad msg_signature: 401, no message, no ticket.
      const xml = `<xml><SuiteId>${app.appId}</SuiteId><InfoType>suite_ticket</InfoType><TimeStamp>1</TimeStamp><SuiteTicket>forged</SuiteTicket></xml>`;
      const encrypted = encryptMessage(aesKeyOf(AES_KEY), xml, app.appId);
      const ts = String(Math.floor(sim.sim.clock.now() / 1000));
      const q = new URLSearchParams({
        msg_signature: wechatSignature('wrong-token', ts, '42', encrypted),
        timestamp: ts,
        nonce: '42',
      });
      const res = await s.hub.app.request(`/wx/${app.name}/suite/command?${q}`, {
        method: 'POST',
        body: `<xml><ToUserName>${app.appId}</ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
      });
      expect(res.status).toBe(401);
      expect(await s.hub.deps.store.messages.count(app.name)).toBe(0);
      const ticket = await s.hub.deps.store.credentials.get({
        owner: `app:${app.name}`,
        kind: 'suite_ticket',
      });
      expect(ticket?.value).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('install link: pre-auth code, session set, redirect exchanged, browser sent on', async () => {
    const app = suiteApp();
    const s = await serve(app);
    try {
      await sim.sim.wecomSuites.pushTicket(app.appId);
      const bad = await get(s.hub, `/v1/suites/${app.name}/install-url?redirect=ftp://x`);
      expect(bad.status).toBe(400);
      const res = await get(
        s.hub,
        `/v1/suites/${app.name}/install-url?redirect=${encodeURIComponent('https://shop.example/done')}&state=abc123&authType=1`,
      );
      expect(res.status).toBe(200);
      const { url, expiresAt } = (await res.json()) as { url: string; expiresAt: string };
      const u = new URL(url);
      expect(`${u.origin}${u.pathname}`).toBe('https://open.work.weixin.qq.com/3rdapp/install');
      expect(u.searchParams.get('suite_id')).toBe(app.appId);
      expect(u.searchParams.get('redirect_uri')).toBe(
        `http://localhost/wx/${app.name}/suite/installed`,
      );
      expect(u.searchParams.get('state')).toMatch(/^[A-Za-z0-9]{1,128}$/);
      expect(Date.parse(expiresAt) - sim.sim.clock.now()).toBe(1200 * 1000);
      expect(sim.sim.calls(SESSION_INFO, app.appId)).toBe(1);

      const next = new URL(sim.sim.wecomSuites.approveInstall(url, 'wwcorpinstall', 'Shop'));
      const back = await s.hub.app.request(`${next.pathname}${next.search}`);
      expect(back.status).toBe(302);
      const to = new URL(back.headers.get('location') ?? '');
      expect(`${to.origin}${to.pathname}`).toBe('https://shop.example/done');
      expect(to.searchParams.get('state')).toBe('abc123');
      expect(to.searchParams.get('corpid')).toBe('wwcorpinstall');
      const corps = await get(s.hub, `/v1/suites/${app.name}/corps`);
      const list = (await corps.json()) as { corps: Record<string, unknown>[] };
      expect(list.corps).toEqual([
        expect.objectContaining({
          corpId: 'wwcorpinstall',
          corpName: 'Shop',
          status: 'authorized',
        }),
      ]);
      expect(JSON.stringify(list)).not.toContain(
        sim.sim.wecomSuites.permanentCodeOf(app.appId, 'wwcorpinstall') ?? 'none',
      );
      // The same code again (a reload): no second exchange.
      const again = await s.hub.app.request(`${next.pathname}${next.search}`);
      expect(again.status).toBe(200);
      expect(sim.sim.calls(PERMANENT_CODE, app.appId)).toBe(1);

      // The suite token killed early (40082): refreshed once by compare-and-refresh, call retried.
      const tokenNow = (await (await get(s.hub, `/v1/suites/${app.name}/token`)).json()) as {
        accessToken: string;
      };
      expect(sim.sim.calls(SUITE_TOKEN, app.appId)).toBe(1);
      expect(sim.sim.wecomSuites.killToken(tokenNow.accessToken)).toBe(true);
      const link = await get(
        s.hub,
        `/v1/suites/${app.name}/install-url?redirect=${encodeURIComponent('https://shop.example/done')}`,
      );
      expect(link.status).toBe(200);
      expect(sim.sim.calls(SUITE_TOKEN, app.appId)).toBe(2);
    } finally {
      await s.close();
    }
  });

  it('create_auth delivered twice plus the redirect: one permanent-code exchange; 3 instances x 500 reads: one get_corp_token', async () => {
    const app = suiteApp();
    const s = await serve(app, 3);
    try {
      await sim.sim.wecomSuites.pushTicket(app.appId);
      const link = await get(
        s.hub,
        `/v1/suites/${app.name}/install-url?redirect=${encodeURIComponent('https://shop.example/x')}`,
      );
      const hubState = new URL(((await link.json()) as { url: string }).url).searchParams.get(
        'state',
      );
      // The code arrives twice on the command URL and, at the same time, on the redirect.
      const code = sim.sim.wecomSuites.issueAuthCode(app.appId, 'wwcorp2', { corpName: 'Two' });
      const inner = (c: string) =>
        `<xml><SuiteId><![CDATA[${app.appId}]]></SuiteId><AuthCode><![CDATA[${c}]]></AuthCode><InfoType><![CDATA[create_auth]]></InfoType><TimeStamp>${Math.floor(sim.sim.clock.now() / 1000)}</TimeStamp><State></State></xml>`;
      const push = (i: number) => {
        const encrypted = encryptMessage(aesKeyOf(AES_KEY), inner(code), app.appId);
        const ts = String(Math.floor(sim.sim.clock.now() / 1000));
        const nonce = String(100 + i);
        const q = new URLSearchParams({
          msg_signature: wechatSignature(app.token ?? '', ts, nonce, encrypted),
          timestamp: ts,
          nonce,
        });
        return fetch(`${s.hubs[i]?.server.url}/wx/${app.name}/suite/command?${q}`, {
          method: 'POST',
          body: `<xml><ToUserName><![CDATA[${app.appId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>`,
        });
      };
      const [a, b, redirect] = await Promise.all([
        push(0),
        push(1),
        s.hubs[2]?.hub.app.request(
          `/wx/${app.name}/suite/installed?auth_code=${encodeURIComponent(code)}&state=${hubState}`,
        ),
      ]);
      expect(await a.text()).toBe('success');
      expect(await b.text()).toBe('success');
      expect(redirect?.status).toBe(302);
      // The pushed copy is stored without the code.
      expect(await rawTableText(raw, 'callback_messages')).not.toContain(code);
      await until(s.hub, app, 'wwcorp2', 200);
      expect(sim.sim.calls(PERMANENT_CODE, app.appId)).toBe(1);
      // The permanent code is kept sealed: in the clear nowhere.
      const permanent = sim.sim.wecomSuites.permanentCodeOf(app.appId, 'wwcorp2') ?? 'none';
      for (const table of ['credentials', 'callback_messages', 'authorizers']) {
        expect(await rawTableText(raw, table)).not.toContain(permanent);
      }

      const reads = await Promise.all(
        s.hubs.flatMap(({ hub }) =>
          Array.from({ length: 500 }, async () => {
            const r = await get(hub, `/v1/suites/${app.name}/corps/wwcorp2/token`);
            expect(r.status).toBe(200);
            return ((await r.json()) as CorpTokenBody).accessToken;
          }),
        ),
      );
      expect(new Set(reads).size).toBe(1);
      expect(sim.sim.wecomSuites.isCorpTokenValid(reads[0] ?? '')).toBe(true);
      expect(sim.sim.calls(CORP_TOKEN, 'wwcorp2')).toBe(1);

      // The corp's proxy adds its token; WeCom's answer comes back as it is.
      const proxied = await get(
        s.hubs[1]?.hub as TestHub,
        `/v1/suites/${app.name}/corps/wwcorp2/proxy/cgi-bin/department/simplelist`,
      );
      expect(proxied.status).toBe(200);
      expect(await proxied.json()).toMatchObject({ errcode: 0 });
      // A corp token killed early (40014): refreshed once by compare-and-refresh, call retried.
      sim.sim.wecomSuites.killToken(reads[0] ?? '');
      const retried = await get(
        s.hub,
        `/v1/suites/${app.name}/corps/wwcorp2/proxy/cgi-bin/department/simplelist`,
      );
      expect(await retried.json()).toMatchObject({ errcode: 0 });
      expect(sim.sim.calls(CORP_TOKEN, 'wwcorp2')).toBe(2);
      const minting = await get(
        s.hub,
        `/v1/suites/${app.name}/corps/wwcorp2/proxy/cgi-bin/service/get_corp_token`,
      );
      expect(minting.status).toBe(403);
    } finally {
      await s.close();
    }
  }, 60_000);

  it('a create_auth push alone installs the corp; cancel_auth answers 410 and leaves no secret', async () => {
    const forward = await startTarget();
    const app = suiteApp({ forward: [{ url: forward.url }] });
    const s = await serve(app);
    try {
      await sim.sim.wecomSuites.pushTicket(app.appId);
      const { answers, authCode } = await sim.sim.wecomSuites.createAuth(app.appId, 'wwcorp3', {
        deliveries: 2,
      });
      expect(answers.map((x) => x.body)).toEqual(['success', 'success']);
      await until(s.hub, app, 'wwcorp3', 200);
      expect(sim.sim.calls(PERMANENT_CODE, app.appId)).toBe(1);
      // Forwarded (once: the second delivery is WeCom's retry), without the code.
      expect(forward.received.map((r) => r.text).join('\n')).not.toContain(authCode);
      expect(forward.received.filter((r) => r.text.includes('create_auth'))).toHaveLength(1);

      // A data-URL push of the corp: stored with the corp, deduplicated, forwarded.
      const msg = `<xml><ToUserName><![CDATA[wwcorp3]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>${Math.floor(sim.sim.clock.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>1234567890123456789</MsgId><AgentID>1</AgentID></xml>`;
      const data = await sim.sim.wecomSuites.pushData(
        app.appId,
        'wwcorp3',
        `${s.base}/data/wwcorp3`,
        msg,
      );
      expect(data).toMatchObject({ status: 200, body: 'success' });
      expect(forward.received.at(-1)?.body).toMatchObject({ authorizerAppId: 'wwcorp3' });
      expect(forward.received.at(-1)?.text).toContain('1234567890123456789');
      // A ciphertext for another corp on this corp's URL: 400, nothing stored.
      const count = await s.hub.deps.store.messages.count(app.name);
      const wrong = await sim.sim.wecomSuites.pushData(
        app.appId,
        'wwother',
        `${s.base}/data/wwcorp3`,
        msg,
      );
      expect(wrong.status).toBe(400);
      expect(await s.hub.deps.store.messages.count(app.name)).toBe(count);

      const permanent = sim.sim.wecomSuites.permanentCodeOf(app.appId, 'wwcorp3');
      expect(permanent).toBeDefined();
      const cancelled = await sim.sim.wecomSuites.cancelAuth(app.appId, 'wwcorp3');
      expect(cancelled.body).toBe('success');
      const gone = await get(s.hub, `/v1/suites/${app.name}/corps/wwcorp3/token`);
      expect(gone.status).toBe(410);
      expect(((await gone.json()) as { error: { code: string } }).error.code).toBe('REVOKED');
      const proxied = await get(
        s.hub,
        `/v1/suites/${app.name}/corps/wwcorp3/proxy/cgi-bin/department/simplelist`,
      );
      expect(proxied.status).toBe(410);
      // No secret of the corp is left: its token and permanent code rows hold no value.
      const rows = await corpRows(s.hub, app, 'wwcorp3');
      const secrets = rows.filter((r) =>
        ['corp_access_token', 'corp_permanent_code'].includes(r.kind),
      );
      expect(secrets.map((r) => r.kind).sort()).toEqual([
        'corp_access_token',
        'corp_permanent_code',
      ]);
      for (const r of secrets) expect(r.value).toBeUndefined();
      const rawRows = (
        JSON.parse(await rawTableText(raw, 'credentials')) as Record<string, unknown>[]
      ).filter((r) => r.owner === `authorizer:${app.name}:wwcorp3`);
      for (const r of rawRows) {
        if (['corp_access_token', 'corp_permanent_code'].includes(String(r.kind))) {
          expect(r.value).toBeNull();
        }
      }
      const list = (await (await get(s.hub, `/v1/suites/${app.name}/corps`)).json()) as {
        corps: { corpId: string; status: string }[];
      };
      expect(list.corps).toEqual([
        expect.objectContaining({ corpId: 'wwcorp3', status: 'revoked' }),
      ]);
    } finally {
      await s.close();
      await forward.close();
    }
  });

  it('a failed exchange keeps the pushed code; the refresh pass exchanges it once; change_auth is stored and forwarded', async () => {
    const forward = await startTarget();
    const app = suiteApp({ forward: [{ url: forward.url }] });
    const s = await serve(app);
    try {
      await sim.sim.wecomSuites.pushTicket(app.appId);
      // WeCom is busy for the first exchange: the push is still answered success.
      sim.sim.injectFault({ path: PERMANENT_CODE, errcode: -1 });
      const { answers, authCode } = await sim.sim.wecomSuites.createAuth(app.appId, 'wwcorp4');
      expect(answers[0]?.body).toBe('success');
      await until(s.hub, app, 'wwcorp4', 404);
      for (let i = 0; i < 50 && sim.sim.calls(PERMANENT_CODE, app.appId) < 1; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(sim.sim.calls(PERMANENT_CODE, app.appId)).toBe(1);
      // Kept sealed meanwhile (in the clear in no table).
      expect(await rawTableText(raw, 'credentials')).not.toContain(authCode);
      const pass = await s.hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      expect(pass.status).toBe(200);
      await until(s.hub, app, 'wwcorp4', 200);
      expect(sim.sim.calls(PERMANENT_CODE, app.appId)).toBe(2);
      // Exchanged: the next passes and WeCom's redelivery do nothing more.
      await s.hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      expect(sim.sim.calls(PERMANENT_CODE, app.appId)).toBe(2);

      const changed = await sim.sim.wecomSuites.changeAuth(app.appId, 'wwcorp4');
      expect(changed.body).toBe('success');
      expect(forward.received.at(-1)?.body).toMatchObject({
        message: { InfoType: 'change_auth', AuthCorpId: 'wwcorp4' },
      });
      expect((await get(s.hub, `/v1/suites/${app.name}/corps/wwcorp4/token`)).status).toBe(200);
    } finally {
      await s.close();
      await forward.close();
    }
  });

  it('over 24 simulated hours with passes every 5 minutes on 3 hubs, each token is fetched once per lifetime', async () => {
    const app = suiteApp();
    const s = await serve(app, 3);
    try {
      const control = async (path: string, body: unknown) => {
        const res = await fetch(`${sim.url}/__sim${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(res.status).toBe(200);
      };
      await sim.sim.wecomSuites.pushTicket(app.appId);
      for (const corp of ['wwday1', 'wwday2']) {
        await sim.sim.wecomSuites.createAuth(app.appId, corp);
        await until(s.hub, app, corp, 200);
      }
      expect(sim.sim.calls(SUITE_TOKEN, app.appId)).toBe(1);
      expect(sim.sim.calls(CORP_TOKEN, 'wwday1')).toBe(1);
      const failed: unknown[] = [];
      const minutes = 24 * 60;
      for (let minute = 5; minute <= minutes; minute += 5) {
        // Moves the shared clock; the simulator pushes the suite ticket every 10 minutes.
        await control('/clock', { advanceMs: 5 * 60_000 });
        const summaries = await Promise.all(
          s.hubs.map(async ({ hub }) => {
            const res = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
            expect(res.status).toBe(200);
            return (await res.json()) as { failed: { app: string }[] };
          }),
        );
        for (const x of summaries) failed.push(...x.failed.filter((f) => f.app === app.name));
      }
      expect(failed).toEqual([]);
      // Renewed by the first pass with under 10 minutes left: every 115 minutes.
      const renewals = Math.floor(minutes / 115);
      expect(sim.sim.calls(SUITE_TOKEN, app.appId)).toBe(1 + renewals);
      expect(sim.sim.calls(CORP_TOKEN, 'wwday1')).toBe(1 + renewals);
      expect(sim.sim.calls(CORP_TOKEN, 'wwday2')).toBe(1 + renewals);
      const res = await get(s.hubs[2]?.hub as TestHub, `/v1/suites/${app.name}/corps/wwday1/token`);
      const body = (await res.json()) as CorpTokenBody;
      expect(sim.sim.wecomSuites.isCorpTokenValid(body.accessToken)).toBe(true);
    } finally {
      await s.close();
    }
  }, 600_000);
});
