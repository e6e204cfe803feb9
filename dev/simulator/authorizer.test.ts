import { describe, expect, it } from 'vitest';
import { aesKeyOf, decryptMessage, wechatSignature } from '../../shared/wechat/message-crypto';
import { parseXml } from '../../shared/wechat/xml';
import { createSimulator } from './app';
import { createSimClock } from './clock';
import type { SimComponentConfig } from './component';
import { call, MIN, post, T0, useToken } from './test-helpers';

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
const LIST = '/cgi-bin/component/api_get_authorizer_list';
const INFO = '/cgi-bin/component/api_get_authorizer_info';

interface ListBody {
  errcode?: number;
  total_count?: number;
  list?: { authorizer_appid: string; refresh_token?: string; auth_time: number }[];
}

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

  it('api_get_authorizer_list pages authorized accounts with refresh token and auth_time', async () => {
    const { sim, call, refresh } = await setup();
    await sim.authorize(COMP.appId, AUTHORIZER);
    sim.clock.advance(MIN);
    await sim.authorize(COMP.appId, 'wxb0b0b0b0b0b0b0b0', { withTokens: false });
    await sim.authorize(COMP.appId, 'wxc1c1c1c1c1c1c1c1');
    await sim.authorize(COMP.appId, 'wxd2d2d2d2d2d2d2d2');
    await sim.unauthorize(COMP.appId, 'wxd2d2d2d2d2d2d2d2');
    const list = async (offset: unknown, count: unknown) =>
      (await call(LIST, { component_appid: COMP.appId, offset, count })) as ListBody;
    const first = await list(0, 2);
    expect(first.total_count).toBe(3);
    expect(first.list?.map((i) => i.authorizer_appid)).toEqual([AUTHORIZER, 'wxb0b0b0b0b0b0b0b0']);
    expect(first.list?.[0]?.auth_time).toBe(Math.floor(T0 / 1000));
    expect(first.list?.[1]?.auth_time).toBe(Math.floor(T0 / 1000) + 60);
    // An account without API permissions has no refresh token in its item.
    expect(first.list?.[1]?.refresh_token).toBeUndefined();
    const listed = first.list?.[0]?.refresh_token;
    expect(listed).toMatch(/^refreshtoken@@@/);
    // The listed refresh token works even though no code was exchanged.
    expect((await refresh(listed)).errcode).toBeUndefined();
    const rest = await list(2, 500);
    expect(rest.list?.map((i) => i.authorizer_appid)).toEqual(['wxc1c1c1c1c1c1c1c1']);
    expect((await list(3, 10)).list).toEqual([]);
    for (const [offset, count] of [
      [0, 501],
      [0, 0],
      [-1, 10],
      ['0', 10],
    ]) {
      expect((await list(offset, count)).errcode).toBe(40097);
    }
    expect(
      (await call(LIST, { component_appid: COMP.appId, offset: 0, count: 1 }, 'x')).errcode,
    ).toBe(40001);
  });

  it('api_get_authorizer_info answers nick_name, user_name and func_info; 61003 once revoked', async () => {
    const { sim, call, queryAuth } = await setup();
    const { code } = await sim.authorize(COMP.appId, AUTHORIZER, { nickName: 'Shop 小店' });
    const exchanged = (await queryAuth(code)).authorization_info;
    const got = (await call(INFO, {
      component_appid: COMP.appId,
      authorizer_appid: AUTHORIZER,
    })) as {
      authorizer_info?: { nick_name?: string; user_name?: string };
      authorization_info?: {
        authorizer_refresh_token?: string;
        func_info?: { funcscope_category: { id: number } }[];
      };
    };
    expect(got.authorizer_info?.nick_name).toBe('Shop 小店');
    expect(got.authorizer_info?.user_name).toMatch(/^gh_[0-9a-f]{12}$/);
    expect(got.authorization_info?.func_info?.map((f) => f.funcscope_category.id)).toEqual([1, 17]);
    expect(got.authorization_info?.authorizer_refresh_token).toBe(
      exchanged?.authorizer_refresh_token,
    );
    await sim.unauthorize(COMP.appId, AUTHORIZER);
    const gone = await call(INFO, { component_appid: COMP.appId, authorizer_appid: AUTHORIZER });
    expect(gone.errcode).toBe(61003);
  });

  it('faults: a stale refresh token answers 61023 and the list holds the new one (or none)', async () => {
    const { sim, call, queryAuth, refresh } = await setup();
    const { code } = await sim.authorize(COMP.appId, AUTHORIZER);
    const stored = (await queryAuth(code)).authorization_info?.authorizer_refresh_token;
    const fresh = sim.invalidateRefreshToken(COMP.appId, AUTHORIZER);
    expect(fresh).not.toBe(stored);
    expect((await refresh(stored)).errcode).toBe(61023);
    const list = (await call(LIST, {
      component_appid: COMP.appId,
      offset: 0,
      count: 10,
    })) as ListBody;
    expect(list.list?.[0]?.refresh_token).toBe(fresh);
    expect((await refresh(fresh)).errcode).toBeUndefined();
    // Not listed: the item carries no refresh token at all.
    const res = await post(sim, '/__sim/components/refresh-token/invalidate', {
      appId: COMP.appId,
      authorizerAppId: AUTHORIZER,
      listed: false,
    });
    expect(res.res.status).toBe(200);
    const bare = (await call(LIST, {
      component_appid: COMP.appId,
      offset: 0,
      count: 10,
    })) as ListBody;
    expect(bare.list?.[0]).toEqual({
      authorizer_appid: AUTHORIZER,
      auth_time: Math.floor(T0 / 1000),
    });
    const unknown = await post(sim, '/__sim/components/refresh-token/invalidate', {
      appId: COMP.appId,
      authorizerAppId: 'wxnope',
    });
    expect(unknown.res.status).toBe(400);
    // A transient 61003 is an injected fault: the authorizer is still listed meanwhile.
    const listedToken = sim.invalidateRefreshToken(COMP.appId, AUTHORIZER);
    sim.injectFault({ path: AUTHORIZER_TOKEN, appId: COMP.appId, errcode: 61003 });
    expect((await refresh(listedToken)).errcode).toBe(61003);
    const still = (await call(LIST, {
      component_appid: COMP.appId,
      offset: 0,
      count: 10,
    })) as ListBody;
    expect(still.list?.map((i) => i.authorizer_appid)).toEqual([AUTHORIZER]);
    expect((await refresh(listedToken)).errcode).toBeUndefined();
  });
});

describe('simulator: customer-service messages of authorizers and the release test', () => {
  it('custom/send takes a live authorizer token, keeps what was sent, and refuses an expired one', async () => {
    const { sim, queryAuth } = await setup();
    const { code } = await sim.authorize(COMP.appId, AUTHORIZER, { url: 'http://hub.test/e' });
    const token = (await queryAuth(code)).authorization_info?.authorizer_access_token;
    const msg = { touser: 'o-fan', msgtype: 'text', text: { content: 'hello' } };
    const sent = await post(sim, `/cgi-bin/message/custom/send?access_token=${token}`, msg);
    expect(sent.body.errcode).toBe(0);
    expect(sim.customMessages(AUTHORIZER)).toEqual([
      { authorizerAppId: AUTHORIZER, touser: 'o-fan', msgtype: 'text', content: 'hello', at: T0 },
    ]);
    sim.clock.advance(7200 * 1000);
    const late = await post(sim, `/cgi-bin/message/custom/send?access_token=${token}`, msg);
    expect(late.body.errcode).toBe(42001);
    expect(sim.customMessages(AUTHORIZER)).toHaveLength(1);
  });

  it('release-test control route: 400 for an unknown component or a component without a URL', async () => {
    const { sim } = await setup();
    const unknown = await post(sim, '/__sim/components/release-test', { appId: 'wxnope' });
    expect(unknown.res.status).toBe(400);
    const noUrl = await post(sim, '/__sim/components/release-test', { appId: COMP.appId });
    expect(noUrl.res.status).toBe(400);
    expect(noUrl.body).toEqual({ error: `component ${COMP.appId} has no messageUrl: pass url` });
  });

  it('release test: a hub answering success to everything fails the text and api steps', async () => {
    const { sim } = await setup();
    const report = await sim.releaseTest(COMP.appId, {
      url: 'http://hub.test/wx/comp/component/message/$APPID$',
      waitMs: 0,
    });
    expect(report.passed).toBe(false);
    expect(report.steps.map((s) => [s.name, s.passed])).toEqual([
      ['ticket', true],
      ['text', false],
      ['event', false],
      ['api', false],
    ]);
  });
});

describe('authorization pages: api_create_preauthcode, componentloginpage, bindcomponent', () => {
  const PRE_AUTH = '/cgi-bin/component/api_create_preauthcode';
  const preAuth = async (call: Awaited<ReturnType<typeof setup>>['call']) => {
    const got = (await call(PRE_AUTH, { component_appid: COMP.appId })) as {
      pre_auth_code?: string;
      expires_in?: number;
    };
    expect(got.expires_in).toBe(600);
    return got.pre_auth_code ?? '';
  };
  const pageUrl = (path: string, params: Record<string, string>) =>
    `${path}?${new URLSearchParams(params).toString()}`;

  it('an approving admin: the push carries the code the browser is sent back with; the pre-auth code works once', async () => {
    const { sim, pushes, call, queryAuth } = await setup();
    const pre = await preAuth(call);
    sim.approveNext(COMP.appId, { authorizerAppId: AUTHORIZER, deliveries: 2 });
    const params = {
      component_appid: COMP.appId,
      pre_auth_code: pre,
      redirect_uri: 'https://hub.test/wx/comp/component/authorized?x=1',
      auth_type: '3',
    };
    const res = await sim.app.request(pageUrl('/cgi-bin/componentloginpage', params));
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(
      'https://hub.test/wx/comp/component/authorized',
    );
    expect(location.searchParams.get('x')).toBe('1');
    expect(location.searchParams.get('expires_in')).toBe('600');
    const code = location.searchParams.get('auth_code') ?? '';
    const [pushed] = await sim.pagePushes();
    expect(pushed?.deliveries).toHaveLength(2);
    const fields = openPush(pushes[0]);
    expect(fields.InfoType).toBe('authorized');
    expect(fields.AuthorizerAppid).toBe(AUTHORIZER);
    expect(fields.AuthorizationCode).toBe(code);
    expect((await queryAuth(code)).authorization_info?.authorizer_appid).toBe(AUTHORIZER);
    const again = await sim.app.request(pageUrl('/cgi-bin/componentloginpage', params));
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('pre_auth_code');
  });

  it('bindcomponent needs action=bindcomponent; biz_appid picks the account; bad input is refused', async () => {
    const { sim, call } = await setup();
    const base = (pre: string) => ({
      action: 'bindcomponent',
      no_scan: '1',
      component_appid: COMP.appId,
      pre_auth_code: pre,
      redirect_uri: 'https://hub.test/back',
    });
    const h5 = await sim.app.request(
      pageUrl('/safe/bindcomponent', { ...base(await preAuth(call)), biz_appid: AUTHORIZER }),
    );
    expect(h5.status).toBe(302);
    expect((await sim.pagePushes())[0]?.code).toBeDefined();
    const refused = async (params: Record<string, string>, path = '/safe/bindcomponent') =>
      (await sim.app.request(pageUrl(path, params))).status;
    expect(await refused({ ...base(await preAuth(call)), action: 'other' })).toBe(400);
    expect(await refused({ ...base('preauthcode@@@unknown') })).toBe(400);
    expect(await refused({ ...base(await preAuth(call)), component_appid: 'wxnope' })).toBe(400);
    expect(await refused({ ...base(await preAuth(call)), redirect_uri: '/relative' })).toBe(400);
    expect(await refused({ ...base(await preAuth(call)), auth_type: '9' })).toBe(400);
    expect(
      await refused({ ...base(await preAuth(call)), auth_type: '1', biz_appid: AUTHORIZER }),
    ).toBe(400);
    // The control route queues who approves next; an unknown component is a 400.
    const approve = (appId: string) =>
      post(sim, '/__sim/components/approve', { appId, authorizerAppId: 'wxa1b2c3d4e5f6a7b8' });
    expect((await approve(COMP.appId)).res.status).toBe(200);
    expect((await approve('wxnope')).res.status).toBe(400);
    const queued = await sim.app.request(pageUrl('/safe/bindcomponent', base(await preAuth(call))));
    expect(
      new URL(queued.headers.get('location') ?? '').searchParams.get('auth_code'),
    ).toBeTruthy();
    expect((await sim.pagePushes())[0]?.code).toBeDefined();
    const expired = await preAuth(call);
    sim.clock.advance(600_000);
    expect(await refused(base(expired))).toBe(400);
    // A component token is required to mint a pre-auth code.
    expect(
      ((await call(PRE_AUTH, { component_appid: COMP.appId }, 'bad')) as AuthBody).errcode,
    ).toBe(40001);
  });
});

describe('authorizers: calls with their tokens and the component token', () => {
  const CODE2SESSION = '/sns/component/jscode2session';
  const OPTION = '/cgi-bin/component/api_get_authorizer_option';

  /** COMP with AUTHORIZER authorized and its first access token. */
  async function authorized() {
    const s = await setup();
    const { code } = await s.sim.authorize(COMP.appId, AUTHORIZER);
    const info = (await s.queryAuth(code)).authorization_info;
    const token = info?.authorizer_access_token;
    if (token === undefined) throw new Error('no authorizer token');
    return { ...s, token };
  }

  it('getticket and ordinary APIs take an authorizer token; a killed or expired one is 40001/42001', async () => {
    const { sim, token } = await authorized();
    const ticket = await call(sim, `/cgi-bin/ticket/getticket?access_token=${token}&type=jsapi`);
    expect(ticket.body.errcode).toBe(0);
    expect(typeof ticket.body.ticket).toBe('string');
    expect(ticket.body.expires_in).toBe(7200);
    expect(sim.calls('/cgi-bin/ticket/getticket', AUTHORIZER)).toBe(1);
    expect(await useToken(sim, token)).toBe(0);
    expect(sim.killToken(token)).toBe(true);
    expect(await useToken(sim, token)).toBe(40001);
    expect(sim.isTokenValid(token)).toBe(false);
    const { code } = await sim.authorize(COMP.appId, AUTHORIZER);
    const second = (await authorizedInfo(sim, code))?.authorizer_access_token;
    expect(await useToken(sim, second ?? '')).toBe(0);
    sim.clock.advance(2 * 60 * MIN);
    expect(await useToken(sim, second ?? '')).toBe(42001);
    expect(sim.killToken('never-issued')).toBe(false);
    const killed = await post(sim, '/__sim/tokens/kill', { token: second });
    expect(killed.body).toEqual({ killed: true });
    expect((await post(sim, '/__sim/tokens/kill', {})).res.status).toBe(400);
  });

  it('component jscode2session: openid and session_key for an authorizer, 61003 for one that never authorized or revoked', async () => {
    const { sim } = await authorized();
    const componentToken = await freshComponentToken(sim);
    const exchange = (appid: string, code: string, token = componentToken) =>
      call(
        sim,
        `${CODE2SESSION}?appid=${appid}&js_code=${code}&grant_type=authorization_code&component_appid=${COMP.appId}&component_access_token=${token}`,
      );
    const code = sim.issueLoginCode(AUTHORIZER, 'o-user', 'u-union');
    const ok = await exchange(AUTHORIZER, code);
    expect(ok.body).toMatchObject({ openid: 'o-user', unionid: 'u-union' });
    expect(typeof ok.body.session_key).toBe('string');
    expect((await exchange(AUTHORIZER, code)).body.errcode).toBe(40163);
    expect((await exchange('wxnever000000000000', 'c')).body.errcode).toBe(61003);
    expect((await exchange(AUTHORIZER, 'c', 'not-a-token')).body.errcode).toBe(40001);
    await sim.unauthorize(COMP.appId, AUTHORIZER);
    const again = sim.issueLoginCode(AUTHORIZER, 'o-user');
    expect((await exchange(AUTHORIZER, again)).body.errcode).toBe(61003);
    expect(sim.calls(CODE2SESSION, COMP.appId)).toBe(5);
    expect(() => sim.issueLoginCode('wxnever000000000000', 'o')).toThrow();
  });

  it('api_get_authorizer_option checks the component token (a killed one is 40001)', async () => {
    const { sim, call: componentCall } = await authorized();
    const componentToken = await freshComponentToken(sim);
    const body = {
      component_appid: COMP.appId,
      authorizer_appid: AUTHORIZER,
      option_name: 'voice_recognize',
    };
    const ok = await componentCall(OPTION, body, componentToken);
    expect(ok).toMatchObject({ authorizer_appid: AUTHORIZER, option_value: '1' });
    const other = await componentCall(OPTION, { ...body, authorizer_appid: 'wxnever0000000000' });
    expect(other.errcode).toBe(61003);
    expect(sim.killToken(componentToken)).toBe(true);
    expect((await componentCall(OPTION, body, componentToken)).errcode).toBe(40001);
  });
});

/** A component token of COMP from its latest ticket. */
async function freshComponentToken(sim: ReturnType<typeof createSimulator>): Promise<string> {
  const { ticket } = await sim.pushTicket(COMP.appId);
  const got = await post(sim, '/cgi-bin/component/api_component_token', {
    component_appid: COMP.appId,
    component_appsecret: COMP.secret,
    component_verify_ticket: ticket,
  });
  const token = (got.body as Record<string, unknown>).component_access_token;
  if (typeof token !== 'string') throw new Error('no component token');
  return token;
}

/** api_query_auth of `code` with a fresh component token. */
async function authorizedInfo(sim: ReturnType<typeof createSimulator>, code: string | undefined) {
  const token = await freshComponentToken(sim);
  const res = await post(sim, `${QUERY_AUTH}?component_access_token=${token}`, {
    component_appid: COMP.appId,
    authorization_code: code,
  });
  return (res.body as AuthBody).authorization_info;
}
