import { describe, expect, it } from 'vitest';
import type { Simulator } from './app';
import { APP, APP2, MIN, newSim } from './test-helpers';

const CB = 'https://hub.example.com/oauth/oa/callback?x=1';

/** The page for APP with `scope`, as the hub sends the browser there. */
async function authorize(sim: Simulator, scope: string, appId = APP.appId) {
  const q = new URLSearchParams({
    appid: appId,
    redirect_uri: CB,
    response_type: 'code',
    scope,
    state: 'S1',
  });
  return sim.app.request(`/connect/oauth2/authorize?${q}#wechat_redirect`);
}

const back = (res: Response) => new URL(res.headers.get('location') ?? 'none:');

async function json(sim: Simulator, url: string): Promise<Record<string, unknown>> {
  return (await (await sim.app.request(url)).json()) as Record<string, unknown>;
}

const exchangeUrl = (code: string, secret = APP.secret) =>
  `/sns/oauth2/access_token?appid=${APP.appId}&secret=${secret}&code=${code}&grant_type=authorization_code`;

async function next(sim: Simulator, body: Record<string, unknown>) {
  const res = await sim.app.request('/__sim/oauth/next', {
    method: 'POST',
    body: JSON.stringify({ appId: APP.appId, ...body }),
  });
  expect(res.status).toBe(200);
}

describe('OAuth2 web authorization', () => {
  it('sends the browser back with a code that exchanges once (40163 after)', async () => {
    const sim = newSim();
    await next(sim, { openid: 'o-user-1', unionid: 'u-1', nickname: '张三' });
    const res = await authorize(sim, 'snsapi_userinfo');
    expect(res.status).toBe(302);
    const to = back(res);
    expect(`${to.origin}${to.pathname}`).toBe('https://hub.example.com/oauth/oa/callback');
    expect(to.searchParams.get('x')).toBe('1');
    expect(to.searchParams.get('state')).toBe('S1');
    expect(to.searchParams.has('appid')).toBe(false);
    const code = to.searchParams.get('code') ?? '';
    expect(await json(sim, exchangeUrl(code, 'wrong'))).toMatchObject({ errcode: 40125 });
    const token = await json(sim, exchangeUrl(code));
    expect(token).toMatchObject({
      openid: 'o-user-1',
      unionid: 'u-1',
      scope: 'snsapi_userinfo',
      expires_in: 7200,
    });
    expect(token.is_snapshotuser).toBeUndefined();
    expect(await json(sim, exchangeUrl(code))).toMatchObject({ errcode: 40163 });
    const user = await json(
      sim,
      `/sns/userinfo?access_token=${String(token.access_token)}&openid=o-user-1&lang=zh_CN`,
    );
    expect(user).toMatchObject({ openid: 'o-user-1', nickname: '张三', unionid: 'u-1' });
    expect(
      await json(sim, `/sns/userinfo?access_token=${String(token.access_token)}&openid=o-2`),
    ).toMatchObject({ errcode: 40003 });
  });

  it('answers 40029 for a code of another app or older than 5 minutes', async () => {
    const sim = newSim();
    const other = back(await authorize(sim, 'snsapi_base', APP2.appId)).searchParams.get('code');
    expect(await json(sim, exchangeUrl(other ?? ''))).toMatchObject({ errcode: 40029 });
    const late = back(await authorize(sim, 'snsapi_base')).searchParams.get('code') ?? '';
    sim.clock.advance(5 * MIN);
    expect(await json(sim, exchangeUrl(late))).toMatchObject({ errcode: 40029 });
  });

  it('refuses userinfo for snsapi_base and snapshot users; a refusal sends back only state', async () => {
    const sim = newSim();
    const base = back(await authorize(sim, 'snsapi_base')).searchParams.get('code') ?? '';
    const t1 = await json(sim, exchangeUrl(base));
    expect(t1.scope).toBe('snsapi_base');
    expect(
      await json(
        sim,
        `/sns/userinfo?access_token=${String(t1.access_token)}&openid=${String(t1.openid)}`,
      ),
    ).toMatchObject({ errcode: 48001 });

    await next(sim, { snapshot: true });
    const snap = back(await authorize(sim, 'snsapi_userinfo')).searchParams.get('code') ?? '';
    const t2 = await json(sim, exchangeUrl(snap));
    expect(t2.is_snapshotuser).toBe(1);
    expect(
      await json(
        sim,
        `/sns/userinfo?access_token=${String(t2.access_token)}&openid=${String(t2.openid)}`,
      ),
    ).toMatchObject({ errcode: 48001 });

    await next(sim, { refuse: true });
    const refused = back(await authorize(sim, 'snsapi_userinfo'));
    expect(refused.searchParams.get('state')).toBe('S1');
    expect(refused.searchParams.has('code')).toBe(false);
  });

  it('shows an error page for an unknown appid or a bad scope', async () => {
    const sim = newSim();
    expect((await authorize(sim, 'snsapi_base', 'wx-unknown')).status).toBe(400);
    expect((await authorize(sim, 'snsapi_login')).status).toBe(400);
  });
});
