import { describe, expect, it } from 'vitest';
import { createSimulator } from './app';
import { fnSign } from './fengniao';
import { ssSign } from './shansong';

/** The delivery platforms' simulators enforce the platforms' rules, so hub bugs show. */

const post = (
  sim: ReturnType<typeof createSimulator>,
  path: string,
  body: string,
  type = 'application/json',
) => sim.app.request(path, { method: 'POST', headers: { 'content-type': type }, body });

describe('Fengniao simulator', () => {
  const setUp = () => {
    const sim = createSimulator();
    sim.fengniao.registerApp({ appId: '6236', secret: 'fn-secret' });
    return sim;
  };
  const tokenBody = (sim: ReturnType<typeof createSimulator>, code: string, over = {}) => {
    const fields: Record<string, string> = {
      grant_type: 'authorization_code',
      code,
      app_id: '6236',
      merchant_id: '51659',
      timestamp: String(sim.clock.now()),
      ...over,
    };
    return JSON.stringify({ ...fields, signature: fnSign('fn-secret', fields) });
  };

  it('exchanges a code once, refusing a wrong signature and a seconds timestamp', async () => {
    const sim = setUp();
    const code = sim.fengniao.issueCode('6236', '51659');
    const bad = JSON.parse(tokenBody(sim, code)) as Record<string, string>;
    bad.signature = (bad.signature ?? '').toUpperCase();
    expect(await (await post(sim, '/fengniao/openapi/token', JSON.stringify(bad))).json()).toEqual({
      code: '40009',
      msg: 'signature error',
    });
    const seconds = tokenBody(sim, code, { timestamp: String(Math.floor(sim.clock.now() / 1000)) });
    expect(await (await post(sim, '/fengniao/openapi/token', seconds)).json()).toMatchObject({
      code: '40005',
    });
    const ok = (await (
      await post(sim, '/fengniao/openapi/token', tokenBody(sim, code))
    ).json()) as {
      code: string;
      business_data: string;
    };
    expect(ok.code).toBe('200');
    expect(JSON.parse(ok.business_data)).toMatchObject({ merchant_id: '51659', app_id: '6236' });
    const again = await post(sim, '/fengniao/openapi/token', tokenBody(sim, code));
    expect(await again.json()).toMatchObject({ code: '40010' });
    expect(sim.calls('/fengniao/openapi/token')).toBe(4);
  });

  it('answers the same pair to refreshes within 10 minutes, a new one after', async () => {
    const sim = setUp();
    const code = sim.fengniao.issueCode('6236', '51659');
    const first = (await (
      await post(sim, '/fengniao/openapi/token', tokenBody(sim, code))
    ).json()) as {
      business_data: string;
    };
    const { refresh_token: rt, access_token: at } = JSON.parse(first.business_data) as Record<
      string,
      string
    >;
    const refresh = async () => {
      const fields: Record<string, string> = {
        grant_type: 'refresh_token',
        refresh_token: rt ?? '',
        app_id: '6236',
        merchant_id: '51659',
        timestamp: String(sim.clock.now()),
      };
      const body = JSON.stringify({ ...fields, signature: fnSign('fn-secret', fields) });
      const r = (await (await post(sim, '/fengniao/openapi/refreshToken', body)).json()) as {
        business_data: string;
      };
      return (JSON.parse(r.business_data) as { access_token: string }).access_token;
    };
    expect(await refresh()).toBe(at);
    sim.clock.advance(10 * 60_000 + 1);
    expect(await refresh()).not.toBe(at);
  });

  it('applies injected faults on its paths, counted like WeChat calls', async () => {
    const sim = setUp();
    sim.injectFault({ path: '/fengniao/v3/invoke/createOrder', status: 503 });
    const res = await post(sim, '/fengniao/v3/invoke/createOrder', '{}');
    expect(res.status).toBe(503);
    expect(sim.calls('/fengniao/v3/invoke/createOrder')).toBe(1);
  });
});

describe('Shansong simulator', () => {
  const setUp = () => {
    const sim = createSimulator();
    sim.shansong.registerApp({ clientId: 'ss123', secret: 'ss-secret' });
    return sim;
  };
  const code = async (sim: ReturnType<typeof createSimulator>) => {
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: 'ss123',
      scope: 'shop_open_api',
      redirect_uri: 'https://hub.example.com/back',
      state: 'shop-a',
    });
    const res = await sim.app.request(`/shansong/auth?${q.toString()}`);
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location') ?? '');
    expect(to.searchParams.get('state')).toBe('shop-a');
    return to.searchParams.get('code') ?? '';
  };
  const FORM = 'application/x-www-form-urlencoded';

  it('takes a code once, within one minute, unsigned', async () => {
    const sim = setUp();
    const late = await code(sim);
    sim.clock.advance(60_001);
    const expired = await post(
      sim,
      '/shansong/openapi/oauth/token',
      `clientId=ss123&code=${late}`,
      FORM,
    );
    expect(await expired.json()).toMatchObject({ status: 400 });
    const fresh = await code(sim);
    const ok = await post(
      sim,
      '/shansong/openapi/oauth/token',
      `clientId=ss123&code=${fresh}`,
      FORM,
    );
    expect(await ok.json()).toMatchObject({ status: 200, data: { expires_in: 604800 } });
    const twice = await post(
      sim,
      '/shansong/openapi/oauth/token',
      `clientId=ss123&code=${fresh}`,
      FORM,
    );
    expect(await twice.json()).toMatchObject({ status: 400 });
  });

  it('refuses a lowercase or wrong sign, accepts the uppercase MD5', async () => {
    const sim = setUp();
    const fields = {
      clientId: 'ss123',
      shopId: '20000',
      timestamp: String(sim.clock.now()),
      data: '{"a":1}',
    };
    const sign = ssSign('ss-secret', fields);
    const send = (s: string) =>
      post(
        sim,
        '/shansong/openapi/merchants/v5/queryAllStores',
        new URLSearchParams({ ...fields, sign: s }).toString(),
        FORM,
      );
    expect(await (await send(sign.toLowerCase())).json()).toMatchObject({ status: 401 });
    expect(await (await send(ssSign('other', fields))).json()).toMatchObject({ status: 401 });
    expect(await (await send(sign)).json()).toMatchObject({ status: 200 });
  });
});
