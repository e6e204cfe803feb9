import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import { openReply } from '../../dev/simulator/component';
import { authorizerDedupKey } from '../../shared/callbacks/message';
import type { AppConfig } from '../../shared/config';
import { createLogger } from '../../shared/http/log';
import { listen } from '../../shared/platform/server';
import { type OpenedStore, openTestStore, testTargets } from '../../shared/store/testing';
import { aesKeyOf, encryptMessage, wechatSignature } from '../../shared/wechat/message-crypto';
import { testComponentApp } from '../component-fixture';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';
import { startTarget } from './testing';

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const CUSTOM_SEND = '/cgi-bin/message/custom/send';
const QUERY_AUTH = '/cgi-bin/component/api_query_auth';

let seq = 0;
/** A fresh authorizer appid (`wx` + 16 hex) per use: tests share the file's database. */
const newAuthorizer = () =>
  `wx${(Date.now() % 1e8).toString(16).padStart(8, '0')}${(seq++).toString(16).padStart(8, '0')}`;
let msgSeq = 7_000_000_000_000_000_000n;
const newMsgId = () => String(msgSeq++);

/** A component app registered in the simulator as a component. */
function componentApp(sim: RunningSimulator, over: Partial<AppConfig> = {}): AppConfig {
  const app: AppConfig = testComponentApp(over);
  sim.sim.registerComponent({
    appId: app.appId,
    secret: app.appSecret ?? '',
    token: app.token ?? '',
    encodingAesKey: AES_KEY,
  });
  return app;
}

/** A message to authorizer `appid` as WeChat sends it to the message URL: safe mode, signed. */
function messagePush(
  app: AppConfig,
  appid: string,
  inner: string,
  nowSec: number,
  opts: { nonce?: string; token?: string } = {},
) {
  const xml =
    '<xml><ToUserName><![CDATA[gh_authorizer]]></ToUserName><FromUserName><![CDATA[o-fan]]></FromUserName>' +
    `<CreateTime>${nowSec}</CreateTime>${inner}</xml>`;
  const encrypted = encryptMessage(aesKeyOf(AES_KEY), xml, app.appId);
  const ts = String(nowSec);
  const nonce = opts.nonce ?? String(100000 + seq++);
  const token = opts.token ?? app.token ?? '';
  const q = new URLSearchParams({
    signature: wechatSignature(token, ts, nonce),
    timestamp: ts,
    nonce,
    encrypt_type: 'aes',
    msg_signature: wechatSignature(token, ts, nonce, encrypted),
  });
  return {
    path: `/wx/${app.name}/component/message/${appid}?${q}`,
    body: `<xml><ToUserName><![CDATA[gh_authorizer]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
  };
}

const text = (content: string, msgId: string) =>
  `<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId>`;

describe.each(testTargets())('third-party platform message URL on $name', (target) => {
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

  const nowSec = () => Math.floor(sim.sim.clock.now() / 1000);
  const post = (hub: TestHub, p: { path: string; body: string }) =>
    hub.app.request(p.path, { method: 'POST', body: p.body });
  const stored = (app: AppConfig, authorizer: string, msgId: string) =>
    raw.store.messages.get(app.name, authorizerDedupKey(authorizer, `msg:${msgId}`));

  it('stores and forwards with the authorizer appid, also for an authorizer the hub never saw; a rule matches one authorizer', async () => {
    const all = await startTarget();
    const onlyA = await startTarget();
    const a = newAuthorizer();
    const b = newAuthorizer();
    const app = componentApp(sim, {
      forward: [{ url: all.url }, { url: onlyA.url, match: { AuthorizerAppid: a } }],
    });
    const hub = await createTestHub(target, { apps: [app], sim });
    try {
      const [idA, idB] = [newMsgId(), newMsgId()];
      for (const [who, id] of [
        [a, idA],
        [b, idB],
      ] as const) {
        const res = await post(hub, messagePush(app, who, text('hello', id), nowSec()));
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('success');
      }
      expect((await stored(app, a, idA))?.authorizerAppid).toBe(a);
      expect((await stored(app, b, idB))?.authorizerAppid).toBe(b);
      const payloads = all.received.map((r) => r.body as Record<string, unknown>);
      expect(payloads.map((p) => p.authorizerAppId)).toEqual([a, b]);
      expect(payloads[0]).toMatchObject({ app: app.name, appId: app.appId, encrypted: true });
      expect((payloads[0]?.message as Record<string, unknown> | undefined)?.MsgId).toBe(idA);
      expect(
        onlyA.received.map((r) => (r.body as { authorizerAppId: string }).authorizerAppId),
      ).toEqual([a]);
    } finally {
      await hub.close();
      await all.close();
      await onlyA.close();
    }
  });

  it("answers a target's passive reply encrypted with the component key, and a retry alike without storing it twice", async () => {
    const t = await startTarget();
    t.reply = { reply: { MsgType: 'text', Content: 'hi from the target' } };
    const app = componentApp(sim, { forward: [{ url: t.url }] });
    const hub = await createTestHub(target, { apps: [app], sim });
    const authorizer = newAuthorizer();
    try {
      const id = newMsgId();
      const push = messagePush(app, authorizer, text('hello', id), nowSec());
      const first = await post(hub, push);
      expect(first.status).toBe(200);
      const body = await first.text();
      const opened = openReply(
        { appId: app.appId, secret: '', token: app.token ?? '', encodingAesKey: AES_KEY },
        body,
      );
      expect(opened).toEqual({
        content: 'hi from the target',
        toUser: 'o-fan',
        fromUser: 'gh_authorizer',
      });
      // WeChat's retry: same body, same signature.
      const retry = await post(hub, push);
      expect(retry.status).toBe(200);
      expect(await retry.text()).toBe(body);
      expect(t.received).toHaveLength(1);
      expect(await raw.store.messages.count(app.name)).toBe(1);
    } finally {
      await hub.close();
      await t.close();
    }
  });

  it('refuses a bad signature with 401 and stores nothing', async () => {
    const app = componentApp(sim);
    const hub = await createTestHub(target, { apps: [app], sim });
    try {
      const push = messagePush(app, newAuthorizer(), text('x', newMsgId()), nowSec(), {
        token: 'NotTheComponentToken',
      });
      const res = await post(hub, push);
      expect(res.status).toBe(401);
      expect(await raw.store.messages.count(app.name)).toBe(0);
    } finally {
      await hub.close();
    }
  });

  it('is 404 for an unknown component, an app that is not a component and a malformed appid; nothing stored', async () => {
    const app = componentApp(sim);
    const oa = testApp({ token: 'OaToken', encodingAesKey: AES_KEY });
    const hub = await createTestHub(target, { apps: [app, oa], sim });
    try {
      const good = messagePush(app, newAuthorizer(), text('x', newMsgId()), nowSec());
      const query = good.path.split('?')[1];
      for (const path of [
        `/wx/nosuchcomponent/component/message/${newAuthorizer()}?${query}`,
        `/wx/${oa.name}/component/message/${newAuthorizer()}?${query}`,
        `/wx/${app.name}/component/message/$APPID$?${query}`,
        `/wx/${app.name}/component/message/not-an-appid?${query}`,
        `/wx/${app.name}/component/message/wx${'a'.repeat(40)}?${query}`,
      ]) {
        const res = await hub.app.request(path, { method: 'POST', body: good.body });
        expect(res.status, path).toBe(404);
        expect(res.headers.get('content-type')).toContain('text/plain');
      }
      expect(await raw.store.messages.count(app.name)).toBe(0);
      expect(await raw.store.messages.count(oa.name)).toBe(0);
    } finally {
      await hub.close();
    }
  });

  it('answers the release text itself only for WeChat test accounts: others go to the rules', async () => {
    const app = componentApp(sim);
    const hub = await createTestHub(target, { apps: [app], sim });
    try {
      const res = await post(
        hub,
        messagePush(
          app,
          newAuthorizer(),
          text('TESTCOMPONENT_MSG_TYPE_TEXT', newMsgId()),
          nowSec(),
        ),
      );
      expect(await res.text()).toBe('success');
    } finally {
      await hub.close();
    }
  });

  it("answers a test account's push itself without waiting for a target; the outbox timer forwards it", async () => {
    const t = await startTarget();
    t.reply = { reply: { MsgType: 'text', Content: 'not this one' } };
    const app = componentApp(sim, { forward: [{ url: t.url }] });
    const hub = await createTestHub(target, { apps: [app], sim });
    const account = 'wx8e1097c5bc82cde9';
    try {
      const push = messagePush(
        app,
        account,
        text('TESTCOMPONENT_MSG_TYPE_TEXT', newMsgId()),
        nowSec(),
      );
      const res = await post(hub, push);
      const opened = openReply(
        { appId: app.appId, secret: '', token: app.token ?? '', encodingAesKey: AES_KEY },
        await res.text(),
      );
      expect(opened.content).toBe('TESTCOMPONENT_MSG_TYPE_TEXT_callback');
      expect(t.received).toHaveLength(0);
      expect((await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH })).status).toBe(
        200,
      );
      expect(
        t.received.map((r) => (r.body as { authorizerAppId: string }).authorizerAppId),
      ).toEqual([account]);
    } finally {
      await hub.close();
      await t.close();
    }
  });

  describe('full-network release test (全网发布), no forward target', () => {
    async function serve() {
      const app = componentApp(sim);
      const hub = await createTestHub(target, { apps: [app], sim });
      const server = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
      await sim.sim.pushTicket(app.appId, `${server.url}/wx/${app.name}/component/event`);
      const url = `${server.url}/wx/${app.name}/component/message/$APPID$`;
      const close = async () => {
        await server.close();
        await hub.close();
      };
      return { app, hub, server, url, close };
    }

    it.each([
      ['the official account', 'wx570bc396a51b8ff8', ['text', 'event', 'api']],
      ['the mini program', 'wxd101a85aa106f53e', ['text', 'api']],
    ])('passes with %s (%s)', async (_kind, account, steps) => {
      const { app, url, close } = await serve();
      try {
        const before = sim.sim.calls(CUSTOM_SEND);
        const report = await sim.sim.releaseTest(app.appId, {
          url,
          authorizerAppId: account,
          waitMs: 10_000,
        });
        expect(report.steps.map((s) => s.name)).toEqual(steps);
        expect(report.steps.filter((s) => !s.passed)).toEqual([]);
        expect(report.passed).toBe(true);
        expect(sim.sim.calls(CUSTOM_SEND)).toBe(before + 1);
        const sent = sim.sim.customMessages(account).at(-1);
        expect(sent?.content).toMatch(/^queryauthcode@@@.+_from_api$/);
      } finally {
        await close();
      }
    });

    it("does not replace a real authorizer's stored tokens with the exchange's", async () => {
      const { app, server, url, hub, close } = await serve();
      const account = 'wx9252c5e0bb1836fc';
      try {
        await sim.sim.authorize(app.appId, account, {
          url: `${server.url}/wx/${app.name}/component/event`,
        });
        const tokenPath = `/v1/components/${app.name}/authorizers/${account}/token`;
        const before = (await (await hub.app.request(tokenPath, { headers: AUTH })).json()) as {
          accessToken: string;
        };
        const exchanges = sim.sim.calls(QUERY_AUTH, app.appId);
        const report = await sim.sim.releaseTest(app.appId, {
          url,
          authorizerAppId: account,
          waitMs: 10_000,
        });
        expect(report.passed).toBe(true);
        expect(sim.sim.calls(QUERY_AUTH, app.appId)).toBe(exchanges + 1);
        const after = (await (await hub.app.request(tokenPath, { headers: AUTH })).json()) as {
          accessToken: string;
        };
        expect(after.accessToken).toBe(before.accessToken);
      } finally {
        await close();
      }
    });

    it('answers a retried QUERY_AUTH_CODE push alike and exchanges its code once', async () => {
      const { app, hub, close } = await serve();
      const lines: string[] = [];
      hub.deps.log = createLogger('info', { write: (l: string) => lines.push(l) });
      const account = 'wx14550af28c71a144';
      const outcomes = () => lines.filter((l) => l.includes('release test: customer-service'));
      try {
        const before = sim.sim.calls(QUERY_AUTH, app.appId);
        const already = await raw.store.messages.count(app.name);
        const push = messagePush(
          app,
          account,
          text('QUERY_AUTH_CODE:code-one', newMsgId()),
          nowSec(),
        );
        for (const p of [push, push]) {
          const res = await post(hub, p);
          expect(res.status).toBe(200);
          expect(await res.text()).toBe('');
        }
        const other = messagePush(
          app,
          account,
          text('QUERY_AUTH_CODE:code-two', newMsgId()),
          nowSec(),
        );
        expect(await (await post(hub, other)).text()).toBe('');
        await vi.waitFor(() => expect(outcomes()).toHaveLength(2), { timeout: 5_000 });
        expect(sim.sim.calls(QUERY_AUTH, app.appId)).toBe(before + 2);
        expect(await raw.store.messages.count(app.name)).toBe(already + 2);
      } finally {
        await close();
      }
    });

    it('logs a failed code exchange (never the code) and the test reports the step failed', async () => {
      const { app, hub, url, close } = await serve();
      const lines: string[] = [];
      hub.deps.log = createLogger('info', { write: (l: string) => lines.push(l) });
      try {
        sim.sim.injectFault({ path: QUERY_AUTH, errcode: 61010 });
        const report = await sim.sim.releaseTest(app.appId, { url, waitMs: 300 });
        expect(report.passed).toBe(false);
        expect(report.steps.find((s) => s.name === 'api')?.passed).toBe(false);
        expect(report.steps.find((s) => s.name === 'text')?.passed).toBe(true);
        const failed = () => lines.filter((l) => l.includes('customer-service message not sent'));
        await vi.waitFor(() => expect(failed()).toHaveLength(1), { timeout: 5_000 });
        expect(failed()[0]).toContain('wx570bc396a51b8ff8');
        expect(lines.join('\n')).not.toContain('queryauthcode@@@');
      } finally {
        sim.sim.clearFaults();
        await close();
      }
    });
  });
});
