import { describe, expect, it } from 'vitest';
import { aesKeyOf, decryptMessage, wechatSignature } from '../../shared/wechat/message-crypto';
import { parseXml } from '../../shared/wechat/xml';
import { createSimulator } from './app';
import { createSimClock } from './clock';
import type { SimComponentConfig } from './component';
import { MIN, post, T0 } from './test-helpers';

const COMP: SimComponentConfig = {
  appId: 'wxc0c0c0c0c0c0c0c0',
  secret: 'component-secret',
  token: 'component-token',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  eventUrl: 'http://hub.test/wx/comp/component/event',
};
const AUTHORIZER = 'wxa0a0a0a0a0a0a0a0';
const QUERY_AUTH = '/cgi-bin/component/api_query_auth';
const AUTHORIZER_TOKEN = '/cgi-bin/component/api_authorizer_token';

interface Captured {
  url: URL;
  body: string;
}

interface AuthBody {
  errcode?: number;
  authorization_info?: {
    authorizer_appid: string;
    authorizer_access_token?: string;
    expires_in?: number;
    authorizer_refresh_token?: string;
    func_info: unknown[];
  };
  authorizer_access_token?: string;
  authorizer_refresh_token?: string;
  expires_in?: number;
}

/** A simulator with COMP registered, a live component token, and captured pushes. */
async function setup() {
  const pushes: Captured[] = [];
  const send: typeof fetch = async (input, init) => {
    pushes.push({ url: new URL(String(input)), body: String(init?.body) });
    return new Response('success');
  };
  const sim = createSimulator({ clock: createSimClock(T0), fetch: send });
  sim.registerComponent(COMP);
  const { ticket } = await sim.pushTicket(COMP.appId);
  const got = await post(sim, '/cgi-bin/component/api_component_token', {
    component_appid: COMP.appId,
    component_appsecret: COMP.secret,
    component_verify_ticket: ticket,
  });
  const componentToken = (got.body as Record<string, unknown>).component_access_token;
  if (typeof componentToken !== 'string') throw new Error('no component token');
  pushes.length = 0;
  const call = async (path: string, body: Record<string, unknown>, token = componentToken) => {
    const res = await post(sim, `${path}?component_access_token=${token}`, body);
    return res.body as AuthBody;
  };
  const queryAuth = (code: string | undefined) =>
    call(QUERY_AUTH, { component_appid: COMP.appId, authorization_code: code });
  const refresh = (refreshToken: string | undefined) =>
    call(AUTHORIZER_TOKEN, {
      component_appid: COMP.appId,
      authorizer_appid: AUTHORIZER,
      authorizer_refresh_token: refreshToken,
    });
  return { sim, pushes, call, queryAuth, refresh };
}

/** Decrypt a captured push the way the hub must, checking both signatures. */
function openPush(p: Captured | undefined): Record<string, unknown> {
  if (!p) throw new Error('no push');
  const q = p.url.searchParams;
  const ts = q.get('timestamp') ?? '';
  const nonce = q.get('nonce') ?? '';
  const encrypt = String(parseXml(p.body).Encrypt);
  expect(q.get('msg_signature')).toBe(wechatSignature(COMP.token, ts, nonce, encrypt));
  return parseXml(decryptMessage(aesKeyOf(COMP.encodingAesKey), encrypt, COMP.appId));
}

describe('authorizers: authorized push, api_query_auth, api_authorizer_token, unauthorized', () => {
  it('pushes an encrypted authorized event whose code api_query_auth exchanges once', async () => {
    const { sim, pushes, queryAuth } = await setup();
    const pushed = await sim.authorize(COMP.appId, AUTHORIZER);
    expect(pushed.status).toBe(200);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]?.url.pathname).toBe('/wx/comp/component/event');
    const inner = openPush(pushes[0]);
    expect(inner).toMatchObject({
      AppId: COMP.appId,
      InfoType: 'authorized',
      AuthorizerAppid: AUTHORIZER,
      AuthorizationCode: pushed.code,
      AuthorizationCodeExpiredTime: String(Math.floor(T0 / 1000) + 3600),
    });
    expect(String(inner.PreAuthCode)).toMatch(/^preauthcode@@@/);
    const first = await queryAuth(pushed.code);
    const info = first.authorization_info;
    expect(info?.authorizer_appid).toBe(AUTHORIZER);
    expect(info?.expires_in).toBe(7200);
    expect(info?.authorizer_refresh_token).toMatch(/^refreshtoken@@@/);
    expect(info?.func_info.length).toBeGreaterThan(0);
    expect(sim.isTokenValid(info?.authorizer_access_token ?? '')).toBe(true);
    expect((await queryAuth(pushed.code)).errcode).toBe(61009);
    expect((await queryAuth('never-issued')).errcode).toBe(61009);
    expect(sim.calls(QUERY_AUTH, COMP.appId)).toBe(3);
  });

  it('answers 61010 for an expired code and tokenless info for an account without API rights', async () => {
    const { sim, queryAuth } = await setup();
    const late = await sim.authorize(COMP.appId, AUTHORIZER);
    sim.clock.advance(60 * MIN);
    expect((await queryAuth(late.code)).errcode).toBe(61010);
    const bare = await sim.authorize(COMP.appId, 'wxb0b0b0b0b0b0b0b0', { withTokens: false });
    const info = (await queryAuth(bare.code)).authorization_info;
    expect(info?.authorizer_appid).toBe('wxb0b0b0b0b0b0b0b0');
    expect(info?.authorizer_access_token).toBeUndefined();
    expect(info?.authorizer_refresh_token).toBeUndefined();
  });

  it('refuses api_query_auth without a live component token', async () => {
    const { sim, call } = await setup();
    const { code } = await sim.authorize(COMP.appId, AUTHORIZER);
    const body = { component_appid: COMP.appId, authorization_code: code };
    expect((await call(QUERY_AUTH, body, 'not-a-token')).errcode).toBe(40001);
    sim.clock.advance(2 * 60 * MIN);
    const expired = await call(QUERY_AUTH, body);
    expect(expired.errcode).toBe(42001);
  });

  it('api_authorizer_token rotates the refresh token; the old one works 5 more minutes', async () => {
    const { sim, queryAuth, refresh } = await setup();
    const { code } = await sim.authorize(COMP.appId, AUTHORIZER);
    const info = (await queryAuth(code)).authorization_info;
    const r0 = info?.authorizer_refresh_token;
    const first = await refresh(r0);
    expect(first.expires_in).toBe(7200);
    expect(first.authorizer_refresh_token).toMatch(/^refreshtoken@@@/);
    expect(first.authorizer_refresh_token).not.toBe(r0);
    expect(first.authorizer_access_token).not.toBe(info?.authorizer_access_token);
    expect(sim.isTokenValid(first.authorizer_access_token ?? '')).toBe(true);
    expect((await refresh(r0)).errcode).toBeUndefined();
    sim.clock.advance(5 * MIN);
    expect((await refresh(r0)).errcode).toBe(61023);
    expect((await refresh('refreshtoken@@@forged')).errcode).toBe(61023);
    expect(sim.calls(AUTHORIZER_TOKEN, COMP.appId)).toBe(4);
  });

  it('a granted authorizer refreshes with its given refresh token; dead tokens are forgotten', async () => {
    const { sim, call } = await setup();
    sim.grantAuthorizer(COMP.appId, AUTHORIZER, 'refreshtoken@@@granted');
    const refreshWith = (refreshToken: string) =>
      call(AUTHORIZER_TOKEN, {
        component_appid: COMP.appId,
        authorizer_appid: AUTHORIZER,
        authorizer_refresh_token: refreshToken,
      });
    const first = await refreshWith('refreshtoken@@@granted');
    expect(first.authorizer_access_token).toMatch(/^a_/);
    expect(sim.isTokenValid(first.authorizer_access_token ?? '')).toBe(true);
    let current = first.authorizer_refresh_token ?? '';
    // A day of rotations: the old refresh tokens and tokens die and are not kept.
    for (let i = 0; i < 12; i++) {
      sim.clock.advance(110 * MIN);
      const { ticket } = await sim.pushTicket(COMP.appId);
      const fresh = await post(sim, '/cgi-bin/component/api_component_token', {
        component_appid: COMP.appId,
        component_appsecret: COMP.secret,
        component_verify_ticket: ticket,
      });
      const token = String((fresh.body as Record<string, unknown>).component_access_token);
      const r = await call(
        AUTHORIZER_TOKEN,
        {
          component_appid: COMP.appId,
          authorizer_appid: AUTHORIZER,
          authorizer_refresh_token: current,
        },
        token,
      );
      current = r.authorizer_refresh_token ?? '';
      expect(current).toMatch(/^refreshtoken@@@/);
    }
    expect(sim.isTokenValid(first.authorizer_access_token ?? '')).toBe(false);
    const dead = await refreshWith('refreshtoken@@@granted');
    expect(dead.errcode).toBeDefined();
  });

  it('re-authorization invalidates the previous refresh token once its code is used', async () => {
    const { sim, queryAuth, refresh } = await setup();
    const first = await queryAuth((await sim.authorize(COMP.appId, AUTHORIZER)).code);
    const again = await queryAuth(
      (await sim.authorize(COMP.appId, AUTHORIZER, { infoType: 'updateauthorized' })).code,
    );
    expect((await refresh(first.authorization_info?.authorizer_refresh_token)).errcode).toBe(61023);
    const ok = await refresh(again.authorization_info?.authorizer_refresh_token);
    expect(ok.errcode).toBeUndefined();
  });

  it('unauthorize pushes unauthorized and every token of the authorizer stops working', async () => {
    const { sim, pushes, queryAuth, refresh } = await setup();
    const { code } = await sim.authorize(COMP.appId, AUTHORIZER);
    const info = (await queryAuth(code)).authorization_info;
    const pending = await sim.authorize(COMP.appId, AUTHORIZER, { infoType: 'updateauthorized' });
    pushes.length = 0;
    const revoked = await sim.unauthorize(COMP.appId, AUTHORIZER);
    expect(revoked.status).toBe(200);
    const inner = openPush(pushes[0]);
    expect(inner).toMatchObject({ InfoType: 'unauthorized', AuthorizerAppid: AUTHORIZER });
    expect(inner.AuthorizationCode).toBeUndefined();
    expect(sim.isTokenValid(info?.authorizer_access_token ?? '')).toBe(false);
    expect((await refresh(info?.authorizer_refresh_token)).errcode).toBe(61003);
    expect((await queryAuth(pending.code)).errcode).toBe(61009);
  });

  it('control routes authorize and unauthorize; bad input is 400', async () => {
    const { sim, pushes, queryAuth } = await setup();
    const res = await post(sim, '/__sim/components/authorize', {
      appId: COMP.appId,
      authorizerAppId: AUTHORIZER,
      url: 'http://other.test/event',
    });
    expect(res.res.status).toBe(200);
    expect(pushes[0]?.url.host).toBe('other.test');
    const { code } = res.body as { code?: string };
    expect((await queryAuth(code)).authorization_info?.authorizer_appid).toBe(AUTHORIZER);
    const off = await post(sim, '/__sim/components/unauthorize', {
      appId: COMP.appId,
      authorizerAppId: AUTHORIZER,
    });
    expect(off.res.status).toBe(200);
    expect(openPush(pushes[1]).InfoType).toBe('unauthorized');
    const unknown = await post(sim, '/__sim/components/authorize', {
      appId: 'wxnope',
      authorizerAppId: AUTHORIZER,
    });
    expect(unknown.res.status).toBe(400);
    const missing = await post(sim, '/__sim/components/unauthorize', { appId: COMP.appId });
    expect(missing.res.status).toBe(400);
  });
});
