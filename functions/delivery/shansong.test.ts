import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import type { AppConfig } from '../../shared/config';
import { createLogger } from '../../shared/http/log';
import { listen, type RunningServer } from '../../shared/platform/server';
import { rawTableText, testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';
import { startTarget } from '../wx-callback/testing';

type TokenBody = { merchant: string; accessToken: string; expiresAt: string };

const DAY = 86_400_000;

describe.each(testTargets())('Shansong apps on $name', (target) => {
  let sim: RunningSimulator;
  let forwardTo: Awaited<ReturnType<typeof startTarget>>;
  let app: AppConfig;
  let hubs: TestHub[];
  let server: RunningServer;
  const merchant = 'shop-east';

  beforeAll(async () => {
    sim = await startSimulator();
    forwardTo = await startTarget();
    app = testApp({
      kind: 'shansong',
      appId: `ss${Date.now().toString(36)}${process.pid}`,
      forward: [{ url: forwardTo.url }],
    });
    hubs = [];
    for (let i = 0; i < 3; i++) {
      hubs.push(
        await createTestHub(target, {
          apps: [app],
          sim,
          instanceId: `ss-${i}`,
          env: { WXHUB_PUBLIC_URL: 'http://127.0.0.1:1' },
        }),
      );
    }
    server = await listen((hubs[0] as TestHub).app, 0, createLogger('silent'), '127.0.0.1');
  });
  afterAll(async () => {
    await server.close(0);
    await Promise.all(hubs.map((h) => h.close()));
    await forwardTo.close();
    await sim.close();
  });

  const hub = (i = 0) => hubs[i] as TestHub;
  const token = async (h: TestHub, m = merchant) => {
    const res = await h.app.request(`/v1/shansong/${app.name}/merchants/${m}/token`, {
      headers: AUTH,
    });
    if (res.status !== 200) throw new Error(`token answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as TokenBody;
  };
  /** A signed authorization link from the internal route. */
  const linkFor = async (m: string) => {
    const res = await hub().app.request(`/v1/shansong/${app.name}/authorize-url?merchant=${m}`, {
      headers: AUTH,
    });
    expect(res.status).toBe(200);
    return new URL(((await res.json()) as { url: string }).url);
  };
  /** The cookie a `set-cookie` answer sets, as a browser sends it back. */
  const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  /**
   * The browser's trip: the signed link, the hub's redirect (and cookie), the platform's page,
   * back to the hub: `land(h)` opens the return in hub `h` with that browser's cookie.
   */
  const authorize = async (m: string) => {
    const link = await linkFor(m);
    const start = await hub().app.request(`${link.pathname}${link.search}`);
    expect(start.status).toBe(302);
    const cookie = cookieOf(start);
    expect(start.headers.get('set-cookie')).toMatch(
      new RegExp(`Path=/shansong/${app.name}/; .*HttpOnly; SameSite=Lax`),
    );
    const page = new URL(start.headers.get('location') ?? '');
    expect(page.searchParams.get('state')).toBe(m);
    expect(page.searchParams.get('scope')).toBe('shop_open_api');
    const redirect = new URL(page.searchParams.get('redirect_uri') ?? '');
    expect(redirect.pathname).toBe(`/shansong/${app.name}/authorized`);
    const approved = await fetch(page, { redirect: 'manual' });
    expect(approved.status).toBe(302);
    const back = new URL(approved.headers.get('location') ?? '');
    const land = (h: TestHub, withCookie = cookie) =>
      h.app.request(`${back.pathname}${back.search}`, { headers: { cookie: withCookie } });
    return { back, cookie, land };
  };
  const proxy = (path: string, init: RequestInit, m = merchant) =>
    hub(1).app.request(`/v1/shansong/${app.name}/merchants/${m}/proxy/${path}`, {
      method: 'POST',
      ...init,
      headers: { ...AUTH, ...(init.headers as Record<string, string>) },
    });

  it('exchanges the code (unsigned, once) with state as the merchant, and serves its token', async () => {
    sim.sim.shansong.nextShop('20001');
    const { land } = await authorize(merchant);
    const landed = await land(hub(2));
    expect(landed.status).toBe(200);
    expect(await landed.text()).toContain(merchant);
    expect(sim.sim.calls('/shansong/openapi/oauth/token')).toBe(1);
    // The browser reloads the page: the same code is not exchanged again.
    const reload = await land(hub(0));
    expect(reload.status).toBe(200);
    expect(sim.sim.calls('/shansong/openapi/oauth/token')).toBe(1);
    const served = await token(hub(1));
    expect(served.merchant).toBe(merchant);
    expect(sim.sim.shansong.isTokenValid(served.accessToken)).toBe(true);
    expect(await rawTableText(hub().opened, 'credentials')).not.toContain(served.accessToken);
  });

  it("binds a merchant's name only through a link the hub signed, and the browser that opened it", async () => {
    const victim = 'shop-victim';
    // The authorize route without the hub's signature, with a forged one, or past its 24 hours.
    const bare = await hub().app.request(`/shansong/${app.name}/authorize?merchant=${victim}`);
    expect(bare.status).toBe(403);
    expect(bare.headers.get('set-cookie')).toBeNull();
    expect(await bare.text()).toContain(`GET /v1/shansong/${app.name}/authorize-url`);
    const link = await linkFor(victim);
    const forged = new URL(link);
    forged.searchParams.set('merchant', 'shop-other');
    expect((await hub().app.request(`${forged.pathname}${forged.search}`)).status).toBe(403);
    sim.sim.clock.advance(24 * 3600_000 + 1000);
    expect((await hub().app.request(`${link.pathname}${link.search}`)).status).toBe(403);

    // Someone else's shop authorized in their own browser, brought back as the victim's name:
    // without the cookie of a link for that name, refused, and the code is not exchanged.
    const other = await authorize('shop-attacker');
    const exchanges = sim.sim.calls('/shansong/openapi/oauth/token');
    const asVictim = new URL(other.back);
    asVictim.searchParams.set('state', victim);
    const stolen = await hub().app.request(`${asVictim.pathname}${asVictim.search}`, {
      headers: { cookie: other.cookie },
    });
    expect(stolen.status).toBe(403);
    const noCookie = await other.land(hub(1), '');
    expect(noCookie.status).toBe(403);
    expect(sim.sim.calls('/shansong/openapi/oauth/token')).toBe(exchanges);
    const missing = await hub().app.request(`/v1/shansong/${app.name}/merchants/${victim}/token`, {
      headers: AUTH,
    });
    expect(missing.status).toBe(404);
    // The same browser after its 10 minutes: open the link again.
    sim.sim.clock.advance(10 * 60_000 + 1000);
    expect((await other.land(hub())).status).toBe(403);
  });

  it('refuses a code older than its one minute (502 naming the platform), storing nothing', async () => {
    const { land } = await authorize('shop-late');
    sim.sim.clock.advance(61_000);
    const res = await land(hub());
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('Shansong /openapi/oauth/token');
    const missing = await hub().app.request(`/v1/shansong/${app.name}/merchants/shop-late/token`, {
      headers: AUTH,
    });
    expect(missing.status).toBe(404);
  });

  it('signs developer calls with the merchant token and sends the JSON body as data, exactly', async () => {
    const body = '{"cityName":"北京市","orderNo":"A1", "amount":1.50}';
    const res = await proxy('developer/orderCalculate', {
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 200 });
    expect(sim.sim.shansong.calls().at(-1)).toEqual({
      path: '/openapi/developer/v5/orderCalculate',
      clientId: app.appId,
      shopId: '20001',
      data: body,
    });
  });

  it('signs merchants calls with shopId, and merchantRegister calls without a token', async () => {
    const m = await proxy('merchants/queryAllStores?shopId=30003', { body: '{"pageNo":1}' });
    expect(m.status).toBe(200);
    expect(sim.sim.shansong.calls().at(-1)).toMatchObject({
      path: '/openapi/merchants/v5/queryAllStores',
      shopId: '30003',
    });
    const noShop = await proxy('merchants/queryAllStores', { body: '{}' });
    expect(noShop.status).toBe(400);
    const reg = await proxy('merchantRegister/register', { body: '{"mobile":"13800000000"}' });
    expect(reg.status).toBe(200);
    expect(await reg.json()).toMatchObject({ status: 200 });
  });

  it('passes a multipart upload on, signing clientId and timestamp only', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(1234)], { type: 'image/png' }), 'receipt.png');
    const res = await proxy('file/uploadImg', { body: form });
    expect(res.status).toBe(200);
    expect(sim.sim.shansong.calls().at(-1)).toMatchObject({
      path: '/openapi/file/v5/uploadImg',
      file: { name: 'receipt.png', size: 1234 },
    });
  });

  it('refuses an unknown family and a body that is not JSON, calling nothing', async () => {
    const before = sim.sim.shansong.calls().length;
    expect((await proxy('oauth/token', { body: '{}' })).status).toBe(400);
    expect((await proxy('developer/orderCalculate', { body: 'not json' })).status).toBe(400);
    expect(sim.sim.shansong.calls()).toHaveLength(before);
  });

  it('refuses a callback without the path secret and stores nothing', async () => {
    const before = await hub().deps.store.messages.count(app.name);
    const order = { issOrderNo: 'TDH1', orderNo: 'A1', status: 30 };
    const bare = await sim.sim.shansong.callback(
      `${server.url}/shansong/${app.name}/callback`,
      order,
    );
    expect(bare.status).toBe(401);
    const wrong = await sim.sim.shansong.callback(
      `${server.url}/shansong/${app.name}/callback/${'0'.repeat(32)}`,
      order,
    );
    expect(wrong.status).toBe(401);
    expect(await hub().deps.store.messages.count(app.name)).toBe(before);
    expect(forwardTo.received).toHaveLength(0);
  });

  it('stores an order callback once (sent twice) and forwards it', async () => {
    const res = await hub().app.request(`/v1/shansong/${app.name}/callback-url`, { headers: AUTH });
    const { url } = (await res.json()) as { url: string };
    expect(url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:1/shansong/${app.name}/callback/[0-9a-f]{32}$`),
    );
    const path = new URL(url).pathname;
    const before = await hub().deps.store.messages.count(app.name);
    const order = {
      issOrderNo: 'TDH2',
      orderNo: 'A2',
      status: 40,
      courier: { name: 'Li', mobile: '138****0000', latitude: 39.9, longitude: 116.4 },
    };
    const first = await sim.sim.shansong.callback(`${server.url}${path}`, order);
    const second = await sim.sim.shansong.callback(`${server.url}${path}`, order);
    expect(first).toEqual({ status: 200, body: '{"status":200,"msg":"","data":""}' });
    expect(second).toEqual(first);
    expect(await hub().deps.store.messages.count(app.name)).toBe(before + 1);
    expect(forwardTo.received).toHaveLength(1);
    expect(forwardTo.received[0]?.body).toMatchObject({
      app: app.name,
      platform: 'shansong',
      message: { issOrderNo: 'TDH2', status: 40 },
    });
  });

  it('3 instances × 300 concurrent reads of an expired token make one refresh call', async () => {
    const old = (await token(hub())).accessToken;
    sim.sim.clock.advance(7 * DAY + 60_000);
    const before = sim.sim.calls('/shansong/openapi/oauth/refresh_token');
    const answers = await Promise.all(Array.from({ length: 900 }, (_, i) => token(hub(i % 3))));
    expect(sim.sim.calls('/shansong/openapi/oauth/refresh_token')).toBe(before + 1);
    const values = new Set(answers.map((a) => a.accessToken));
    expect(values.size).toBe(1);
    expect(values.has(old)).toBe(false);
    expect(sim.sim.shansong.isTokenValid(answers[0]?.accessToken ?? '')).toBe(true);
  }, 60_000);

  it('answers a refused refresh as a 502 and records it on the row', async () => {
    const key = { owner: `shansong:${app.name}:${merchant}`, kind: 'merchant_access_token' };
    sim.sim.clock.advance(7 * DAY + 60_000);
    sim.sim.injectFault({ path: '/shansong/openapi/oauth/refresh_token', errcode: 500, times: 1 });
    const res = await hub(2).app.request(`/v1/shansong/${app.name}/merchants/${merchant}/token`, {
      headers: AUTH,
    });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('answered code 500');
    expect((await hub().deps.store.credentials.get(key))?.lastError).toContain('Shansong');
    // While it backs off, the refresh pass still names it.
    const pass = await hub(1).app.request('/v1/refresh', { method: 'POST', headers: AUTH });
    const summary = (await pass.json()) as {
      failed: { app: string; credential: string; error: string }[];
    };
    expect(summary.failed).toContainEqual({
      app: app.name,
      credential: 'merchant_access_token',
      error: expect.stringMatching(/Shansong .*answered code 500.*next attempt/),
    });
  });
});
