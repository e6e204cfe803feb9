import { describe, expect, it, vi } from 'vitest';
import { aesKeyOf, decryptMessage, wechatSignature } from '../../shared/wechat/message-crypto';
import { parseXml } from '../../shared/wechat/xml';
import { createSimulator } from './app';
import { createSimClock } from './clock';
import type { SimComponentConfig } from './component';
import { startSimulator } from './server';
import { MIN, post, T0 } from './test-helpers';

const COMP: SimComponentConfig = {
  appId: 'wxc0c0c0c0c0c0c0c0',
  secret: 'component-secret',
  token: 'component-token',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};
const HOUR_MS = 60 * MIN;
const TOKEN_PATH = '/cgi-bin/component/api_component_token';

interface Captured {
  url: URL;
  body: string;
}

/** A simulator whose outgoing pushes are captured instead of sent. */
function newSim(eventUrl?: string) {
  const pushes: Captured[] = [];
  const send: typeof fetch = async (input, init) => {
    pushes.push({ url: new URL(String(input)), body: String(init?.body) });
    return new Response('success');
  };
  const sim = createSimulator({ clock: createSimClock(T0), fetch: send });
  sim.registerComponent({ ...COMP, eventUrl });
  return { sim, pushes };
}

function tokenCall(sim: ReturnType<typeof newSim>['sim'], ticket: string | undefined) {
  return post(sim, TOKEN_PATH, {
    component_appid: COMP.appId,
    component_appsecret: COMP.secret,
    component_verify_ticket: ticket,
  });
}

/** Decrypt a captured push the way the hub must, checking both signatures. */
function openPush(p: Captured): Record<string, unknown> {
  const q = p.url.searchParams;
  const ts = q.get('timestamp') ?? '';
  const nonce = q.get('nonce') ?? '';
  expect(q.get('encrypt_type')).toBe('aes');
  expect(q.get('signature')).toBe(wechatSignature(COMP.token, ts, nonce));
  const outer = parseXml(p.body);
  expect(outer.AppId).toBe(COMP.appId);
  const encrypt = String(outer.Encrypt);
  expect(q.get('msg_signature')).toBe(wechatSignature(COMP.token, ts, nonce, encrypt));
  return parseXml(decryptMessage(aesKeyOf(COMP.encodingAesKey), encrypt, COMP.appId));
}

describe('component ticket push and api_component_token', () => {
  it('pushes an encrypted, signed ticket that api_component_token then accepts', async () => {
    const { sim, pushes } = newSim();
    const pushed = await sim.pushTicket(COMP.appId, 'http://hub.test/wx/comp/component/event');
    expect(pushed.status).toBe(200);
    expect(pushes).toHaveLength(1);
    const [p] = pushes;
    if (!p) throw new Error('no push');
    expect(p.url.pathname).toBe('/wx/comp/component/event');
    const inner = openPush(p);
    expect(inner).toMatchObject({
      AppId: COMP.appId,
      InfoType: 'component_verify_ticket',
      CreateTime: String(Math.floor(T0 / 1000)),
      ComponentVerifyTicket: pushed.ticket,
    });
    const { body } = await tokenCall(sim, pushed.ticket);
    expect(body.expires_in).toBe(7200);
    expect((body as Record<string, unknown>).component_access_token).toMatch(/^c_/);
    expect(sim.calls(TOKEN_PATH)).toBe(1);
    expect(sim.calls(TOKEN_PATH, COMP.appId)).toBe(1);
  });

  it('answers 61006 for any ticket but the latest, 61005 once the latest is 12 h old', async () => {
    const { sim } = newSim();
    expect((await tokenCall(sim, 'never-pushed')).body.errcode).toBe(61006);
    const first = await sim.pushTicket(COMP.appId);
    const second = await sim.pushTicket(COMP.appId);
    expect(second.ticket).not.toBe(first.ticket);
    expect((await tokenCall(sim, first.ticket)).body.errcode).toBe(61006);
    expect((await tokenCall(sim, second.ticket)).body.errcode).toBeUndefined();
    sim.clock.advance(12 * HOUR_MS);
    expect((await tokenCall(sim, second.ticket)).body.errcode).toBe(61005);
    const bad = await post(sim, TOKEN_PATH, {
      component_appid: COMP.appId,
      component_appsecret: 'wrong',
      component_verify_ticket: second.ticket,
    });
    expect(bad.body.errcode).toBe(40125);
  });

  it('pushes every 10 sim minutes through the clock control route, only with an eventUrl', async () => {
    const { sim, pushes } = newSim('http://hub.test/wx/comp/component/event');
    const advance = (ms: number) => post(sim, '/__sim/clock', { advanceMs: ms });
    await advance(1000);
    expect(pushes).toHaveLength(1);
    await advance(5 * MIN);
    expect(pushes).toHaveLength(1);
    await advance(5 * MIN);
    expect(pushes).toHaveLength(2);
    const quiet = newSim();
    await post(quiet.sim, '/__sim/clock', { advanceMs: 30 * MIN });
    expect(quiet.pushes).toHaveLength(0);
  });

  it('stopped pushes resume after api_start_push_ticket; a wrong secret is 40125', async () => {
    const { sim, pushes } = newSim('http://hub.test/wx/comp/component/event');
    const advance = (ms: number) => post(sim, '/__sim/clock', { advanceMs: ms });
    const start = (secret: string) =>
      post(sim, '/cgi-bin/component/api_start_push_ticket', {
        component_appid: COMP.appId,
        component_secret: secret,
      });
    await advance(1000);
    expect(pushes).toHaveLength(1);
    expect((await start(COMP.secret)).body).toMatchObject({
      errcode: 0,
      errmsg: 'in a normal state',
    });
    const stopped = await post(sim, '/__sim/components/stop-pushes', { appId: COMP.appId });
    expect(stopped.res.status).toBe(200);
    await advance(30 * MIN);
    expect(pushes).toHaveLength(1);
    expect((await start('wrong')).body.errcode).toBe(40125);
    await advance(MIN);
    expect(pushes).toHaveLength(1);
    expect((await start(COMP.secret)).body).toMatchObject({ errcode: 0, errmsg: 'ok' });
    expect(sim.calls('/cgi-bin/component/api_start_push_ticket', COMP.appId)).toBe(3);
    // The next clock step pushes at once, then every 10 minutes again.
    await advance(1000);
    expect(pushes).toHaveLength(2);
    await advance(10 * MIN);
    expect(pushes).toHaveLength(3);
    const unknown = await post(sim, '/__sim/components/stop-pushes', { appId: 'wxnope' });
    expect(unknown.res.status).toBe(400);
  });

  it('control routes register a component and push a ticket; bad input is 400', async () => {
    const { sim, pushes } = newSim();
    const other = { ...COMP, appId: 'wxc1c1c1c1c1c1c1c1' };
    expect((await post(sim, '/__sim/components', other)).res.status).toBe(200);
    const bad = await post(sim, '/__sim/components', { ...other, encodingAesKey: 'short' });
    expect(bad.res.status).toBe(400);
    const pushed = await post(sim, '/__sim/components/ticket', {
      appId: other.appId,
      url: 'http://hub.test/e',
    });
    expect(pushed.res.status).toBe(200);
    expect(pushes).toHaveLength(1);
    const unknown = await post(sim, '/__sim/components/ticket', { appId: 'wxnope' });
    expect(unknown.res.status).toBe(400);
  });

  it('with ticketTimerMs, a served simulator pushes on its own when 10 sim minutes have passed', async () => {
    const { sim, pushes } = newSim('http://hub.test/wx/comp/component/event');
    const running = await startSimulator({ sim, ticketTimerMs: 5 });
    try {
      await vi.waitFor(() => expect(pushes).toHaveLength(1));
      sim.clock.advance(10 * MIN);
      await vi.waitFor(() => expect(pushes).toHaveLength(2));
    } finally {
      await running.close();
    }
  });
});
