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
  uniqueName,
} from '../../shared/store/testing';
import { aesKeyOf, encryptMessage, wechatSignature } from '../../shared/wechat/message-crypto';
import { testComponentApp } from '../component-fixture';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';
import { startTarget } from './testing';

const TOKEN_PATH = '/cgi-bin/component/api_component_token';
const START_PATH = '/cgi-bin/component/api_start_push_ticket';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

/** A component app (unique name and appid) registered in the simulator as a component. */
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

/** A ticket push built by hand (e.g. an old one arriving late), signed with the component's keys. */
function handPush(app: AppConfig, createTime: number, ticket: string, nowSec: number) {
  const xml =
    `<xml><AppId><![CDATA[${app.appId}]]></AppId><CreateTime>${createTime}</CreateTime>` +
    '<InfoType><![CDATA[component_verify_ticket]]></InfoType>' +
    `<ComponentVerifyTicket><![CDATA[${ticket}]]></ComponentVerifyTicket></xml>`;
  const encrypted = encryptMessage(aesKeyOf(AES_KEY), xml, app.appId);
  const ts = String(nowSec);
  const nonce = '778899';
  const q = new URLSearchParams({
    signature: wechatSignature(app.token ?? '', ts, nonce),
    timestamp: ts,
    nonce,
    encrypt_type: 'aes',
    msg_signature: wechatSignature(app.token ?? '', ts, nonce, encrypted),
  });
  return {
    path: `/wx/${app.name}/component/event?${q}`,
    body: `<xml><AppId><![CDATA[${app.appId}]]></AppId><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
  };
}

type TokenBody = { appId: string; accessToken: string; expiresAt: string };

describe.each(testTargets())('third-party platform auth events and token on $name', (target) => {
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

  /** A hub listening on real HTTP, so the simulator can push to it. */
  async function serve(apps: AppConfig[]): Promise<{ hub: TestHub; server: RunningServer }> {
    const hub = await createTestHub(target, { apps, sim });
    const server = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
    return { hub, server };
  }
  const eventUrl = (server: RunningServer, app: AppConfig) =>
    `${server.url}/wx/${app.name}/component/event`;
  const tokenOf = (hub: TestHub, app: AppConfig) =>
    hub.app.request(`/v1/components/${app.name}/token`, { headers: AUTH });
  const ticketRow = (hub: TestHub, app: AppConfig) =>
    hub.deps.store.credentials.get({ owner: `app:${app.name}`, kind: 'component_verify_ticket' });

  it('stores a pushed ticket sealed, forwards the event, and serves the component token', async () => {
    const target2 = await startTarget();
    const app = componentApp(sim, { forward: [{ url: target2.url }] });
    const { hub, server } = await serve([app]);
    // A target's passive reply is for messages: the auth-event URL still answers `success`.
    target2.reply = { reply: { MsgType: 'text', Content: 'not for auth events' } };
    try {
      const pushed = await sim.sim.pushTicket(app.appId, eventUrl(server, app));
      expect(pushed.status).toBe(200);
      expect(pushed.body).toBe('success');
      expect(await hub.deps.store.messages.count(app.name)).toBe(1);
      expect((await ticketRow(hub, app))?.value).toBe(pushed.ticket);
      // Sealed where it is kept, and in the clear nowhere else (stored message, outbox, target).
      for (const table of ['credentials', 'callback_messages', 'outbox']) {
        expect(await rawTableText(raw, table)).not.toContain(pushed.ticket);
      }
      expect(target2.received).toHaveLength(1);
      expect(target2.received[0]?.text).not.toContain(pushed.ticket);
      expect(target2.received[0]?.body).toMatchObject({
        app: app.name,
        message: { InfoType: 'component_verify_ticket', AppId: app.appId },
      });

      const before = sim.sim.calls(TOKEN_PATH, app.appId);
      const res = await tokenOf(hub, app);
      expect(res.status).toBe(200);
      const body = (await res.json()) as TokenBody;
      expect(body.appId).toBe(app.appId);
      expect(body.accessToken).toMatch(/^c_/);
      expect(Date.parse(body.expiresAt) - sim.sim.clock.now()).toBe(7200 * 1000);
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(before + 1);

      // WeChat's retry of the same push (same CreateTime, fresh encryption) stores nothing more.
      const nowSec = Math.floor(sim.sim.clock.now() / 1000);
      const retry = handPush(app, pushed.createTime, pushed.ticket, nowSec);
      const again = await hub.app.request(retry.path, { method: 'POST', body: retry.body });
      expect(again.status).toBe(200);
      expect(await again.text()).toBe('success');
      expect(await hub.deps.store.messages.count(app.name)).toBe(1);
      expect(target2.received).toHaveLength(1);
    } finally {
      await server.close();
      await hub.close();
      await target2.close();
    }
  });

  it('keeps the newest ticket: an older push arriving late does not replace it', async () => {
    const app = componentApp(sim);
    const { hub, server } = await serve([app]);
    try {
      const first = await sim.sim.pushTicket(app.appId, eventUrl(server, app));
      sim.sim.clock.advance(10 * 60_000);
      const second = await sim.sim.pushTicket(app.appId, eventUrl(server, app));
      expect(second.createTime).toBeGreaterThan(first.createTime);
      const nowSec = Math.floor(sim.sim.clock.now() / 1000);
      const late = handPush(app, first.createTime - 60, 'ticket@@@late-and-old', nowSec);
      const res = await hub.app.request(late.path, { method: 'POST', body: late.body });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('success');
      expect(await hub.deps.store.messages.count(app.name)).toBe(3);
      expect((await ticketRow(hub, app))?.value).toBe(second.ticket);
      // The simulator accepts only the latest ticket: the token proves which one was used.
      expect((await tokenOf(hub, app)).status).toBe(200);
    } finally {
      await server.close();
      await hub.close();
    }
  });

  it('refuses a bad signature with 401 and stores nothing', async () => {
    const app = componentApp(sim);
    const { hub } = await serve([app]);
    try {
      const nowSec = Math.floor(sim.sim.clock.now() / 1000);
      const push = handPush(app, nowSec, 'ticket@@@forged', nowSec);
      const forged = push.path.replace(
        /msg_signature=[0-9a-f]{40}/,
        `msg_signature=${'0'.repeat(40)}`,
      );
      const res = await hub.app.request(forged, { method: 'POST', body: push.body });
      expect(res.status).toBe(401);
      expect(await hub.deps.store.messages.count(app.name)).toBe(0);
      expect((await ticketRow(hub, app))?.value).toBeUndefined();
      const plain = await hub.app.request(push.path.replace('encrypt_type=aes', 'encrypt_type='), {
        method: 'POST',
        body: push.body,
      });
      expect(plain.status).toBe(401);
      expect(await hub.deps.store.messages.count(app.name)).toBe(0);
    } finally {
      await hub.close();
    }
  });

  it('answers 404 for an unknown component, 400 for a non-component app, 401 without a key', async () => {
    const app = componentApp(sim);
    const oa = testApp({ token: 'OaToken1', encodingAesKey: AES_KEY });
    const { hub } = await serve([app, oa]);
    try {
      const nowSec = Math.floor(sim.sim.clock.now() / 1000);
      const push = handPush(app, nowSec, 'ticket@@@x', nowSec);
      const unknown = `/wx/${uniqueName('nope')}/component/event?${push.path.split('?')[1]}`;
      expect((await hub.app.request(unknown, { method: 'POST', body: push.body })).status).toBe(
        404,
      );
      const wrongKind = push.path.replace(`/wx/${app.name}/`, `/wx/${oa.name}/`);
      const res = await hub.app.request(wrongKind, { method: 'POST', body: push.body });
      expect(res.status).toBe(400);
      expect(await hub.deps.store.messages.count(oa.name)).toBe(0);
      expect((await tokenOf(hub, oa)).status).toBe(400);
      expect(
        (await hub.app.request(`/v1/components/${uniqueName('nope')}/token`, { headers: AUTH }))
          .status,
      ).toBe(404);
      expect((await hub.app.request(`/v1/components/${app.name}/token`)).status).toBe(401);
    } finally {
      await hub.close();
    }
  });

  it('answers 409 NO_TICKET before any ticket, and the refresh pass reports it without a call', async () => {
    const app = componentApp(sim);
    const { hub } = await serve([app]);
    try {
      const before = sim.sim.calls(TOKEN_PATH, app.appId);
      const res = await tokenOf(hub, app);
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NO_TICKET');
      const pass = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      const summary = (await pass.json()) as { failed: { app: string; credential: string }[] };
      expect(summary.failed).toContainEqual(
        expect.objectContaining({ app: app.name, credential: 'component_access_token' }),
      );
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(before);
    } finally {
      await hub.close();
    }
  });

  it('3 hubs sharing one simulator × 300 concurrent reads each make exactly one upstream call, and the pass keeps it fresh', async () => {
    const app = componentApp(sim);
    const hubs = await Promise.all([0, 1, 2].map(() => serve([app])));
    try {
      const first = hubs[0];
      if (first === undefined) throw new Error('no hub');
      await sim.sim.pushTicket(app.appId, eventUrl(first.server, app));
      const before = sim.sim.calls(TOKEN_PATH, app.appId);
      const answers = await Promise.all(
        Array.from({ length: 900 }, (_, i) => tokenOf(hubs[i % 3]?.hub ?? first.hub, app)),
      );
      const bodies = await Promise.all(answers.map((r) => r.json() as Promise<TokenBody>));
      expect(answers.every((r) => r.status === 200)).toBe(true);
      expect(new Set(bodies.map((b) => b.accessToken)).size).toBe(1);
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(before + 1);

      // Inside the last 10 minutes the timer replaces it once (the ticket is still valid).
      sim.sim.clock.advance(7200_000 - 5 * 60_000);
      const pass = await first.hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      expect(pass.status).toBe(200);
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(before + 2);
      const fresh = (await (await tokenOf(first.hub, app)).json()) as TokenBody;
      expect(fresh.accessToken).not.toBe(bodies[0]?.accessToken);
    } finally {
      for (const h of hubs) {
        await h.server.close();
        await h.hub.close();
      }
    }
  });

  it('a ticket over 12 h old is one config error per pass, never a token call; 3 hubs ask api_start_push_ticket once per 10 minutes', async () => {
    const app = componentApp(sim);
    const hubs = await Promise.all([0, 1, 2].map(() => serve([app])));
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    try {
      const first = hubs[0];
      if (first === undefined) throw new Error('no hub');
      sim.sim.registerComponent({
        appId: app.appId,
        secret: app.appSecret ?? '',
        token: app.token ?? '',
        encodingAesKey: AES_KEY,
        eventUrl: eventUrl(first.server, app),
      });
      await sim.sim.pushTicket(app.appId);
      expect((await tokenOf(first.hub, app)).status).toBe(200);
      // WeChat stops pushing; 12 h later the newest ticket is stale and so is the token.
      sim.sim.stopTicketPushes(app.appId);
      sim.sim.clock.advance(12 * 3600_000 + 60_000);
      const tokenCalls = sim.sim.calls(TOKEN_PATH, app.appId);
      const passes = () =>
        Promise.all(
          hubs.map(async ({ hub }) => {
            const res = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
            const summary = (await res.json()) as {
              failed: { app: string; credential: string; error: string }[];
            };
            return summary.failed.filter((f) => f.app === app.name);
          }),
        );
      for (const failed of await passes()) {
        expect(failed).toHaveLength(1);
        expect(failed[0]?.credential).toBe('component_verify_ticket');
        expect(failed[0]?.error).toMatch(/^configuration: /);
        expect(failed[0]?.error).toContain(`/wx/${app.name}/component/event`);
        expect(failed[0]?.error).toContain('restart pushes with api_start_push_ticket');
      }
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(tokenCalls);
      expect(sim.sim.calls(START_PATH, app.appId)).toBe(1);
      // Logged as a configuration error naming the component.
      const { runRefreshPass } = await import('../../shared/tokens/refresh-pass');
      await runRefreshPass({ ...first.hub.deps, log, refreshAheadSeconds: undefined });
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged).toContainEqual(
        expect.objectContaining({
          app: app.name,
          config: true,
          msg: 'component_verify_ticket is stale',
        }),
      );
      sim.sim.clock.advance(5 * 60_000);
      await passes();
      expect(sim.sim.calls(START_PATH, app.appId)).toBe(1);
      sim.sim.clock.advance(5 * 60_000);
      await passes();
      await passes();
      expect(sim.sim.calls(START_PATH, app.appId)).toBe(2);
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(tokenCalls);
      // Pushes resumed: the next ticket arrives, the error is gone and the token is fetched once.
      expect(await sim.sim.pushDueTickets()).toBe(1);
      for (const failed of await passes()) expect(failed).toEqual([]);
      expect(sim.sim.calls(TOKEN_PATH, app.appId)).toBe(tokenCalls + 1);
    } finally {
      for (const h of hubs) {
        await h.server.close();
        await h.hub.close();
      }
    }
  });
});
