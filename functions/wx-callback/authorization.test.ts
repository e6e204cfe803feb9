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
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

const QUERY_AUTH = '/cgi-bin/component/api_query_auth';
const PRE_AUTH = '/cgi-bin/component/api_create_preauthcode';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const DONE = 'https://shop.example.com/wechat/done?from=wxhub';

type TokenBody = { appId: string; accessToken: string; expiresAt: string };

let seq = 0;
/** A fresh authorizer appid per test (tests share the file's database). */
const newAuthorizer = () => `wxa${String(Date.now()).slice(-8)}${String(seq++).padStart(5, '0')}`;

/** The href of the authorize page's link, as a browser reads it. */
const linkOf = (html: string): string => {
  const href = /<a href="([^"]+)"/.exec(html)?.[1];
  if (href === undefined) throw new Error('no link on the page');
  return href.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
};

const COMPONENT_TOKEN_PATH = '/cgi-bin/component/api_component_token';

describe.each(testTargets())('third-party platform authorization flow on $name', (target) => {
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

  /** A component served by one hub over real HTTP, its ticket pushed; WeChat's pages are the simulator's. */
  async function setup(
    opts: { env?: Record<string, string>; authRedirectUrl?: string; fetch?: typeof fetch } = {},
  ) {
    const app: AppConfig = testComponentApp(
      opts.authRedirectUrl === undefined ? {} : { authRedirectUrl: opts.authRedirectUrl },
    );
    const plain = testApp();
    const hub: TestHub = await createTestHub(target, {
      apps: [app, plain],
      sim,
      env: { WECHAT_MP_BASE: sim.url, ...opts.env },
      ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
    });
    const server: RunningServer = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
    const eventUrl = `${server.url}/wx/${app.name}/component/event`;
    sim.sim.registerComponent({
      appId: app.appId,
      secret: app.appSecret ?? '',
      token: app.token ?? '',
      encodingAesKey: AES_KEY,
    });
    await sim.sim.pushTicket(app.appId, eventUrl);
    const close = async () => {
      await server.close();
      await hub.close();
    };
    const tokenOf = (authorizer: string) =>
      hub.app.request(`/v1/components/${app.name}/authorizers/${authorizer}/token`, {
        headers: AUTH,
      });
    const authUrl = (query: string, headers: Record<string, string> = AUTH, name = app.name) =>
      hub.app.request(`/v1/components/${name}/auth-url?${query}`, { headers });
    return { app, plain, hub, server, eventUrl, close, tokenOf, authUrl };
  }

  it('the browser flow: authorize page → WeChat page → push ×3 and redirect at once → one exchange → authRedirectUrl', async () => {
    const { app, server, eventUrl, close, tokenOf } = await setup({ authRedirectUrl: DONE });
    try {
      for (let round = 0; round < 3; round++) {
        const authorizer = newAuthorizer();
        const before = sim.sim.calls(QUERY_AUTH, app.appId);
        const pageRes = await fetch(`${server.url}/wx/${app.name}/component/authorize?type=pc`);
        expect(pageRes.status).toBe(200);
        expect(pageRes.headers.get('content-type')).toContain('text/html');
        const link = new URL(linkOf(await pageRes.text()));
        expect(`${link.origin}${link.pathname}`).toBe(`${sim.url}/cgi-bin/componentloginpage`);
        expect(link.searchParams.get('component_appid')).toBe(app.appId);
        expect(link.searchParams.get('redirect_uri')).toBe(
          `${server.url}/wx/${app.name}/component/authorized`,
        );
        // The admin approves; WeChat pushes `authorized` 3 times while the browser comes back.
        sim.sim.approveNext(app.appId, {
          authorizerAppId: authorizer,
          url: eventUrl,
          deliveries: 3,
        });
        const wechat = await fetch(link, { redirect: 'manual' });
        expect(wechat.status).toBe(302);
        const back = new URL(wechat.headers.get('location') ?? '');
        expect(back.searchParams.get('expires_in')).toBe('600');
        const [redirected, pushes] = await Promise.all([
          fetch(back, { redirect: 'manual' }),
          sim.sim.pagePushes(),
        ]);
        expect(pushes[0]?.deliveries?.map((d) => d.body)).toEqual([
          'success',
          'success',
          'success',
        ]);
        expect(redirected.status).toBe(302);
        const next = new URL(redirected.headers.get('location') ?? '');
        expect(`${next.origin}${next.pathname}`).toBe('https://shop.example.com/wechat/done');
        expect(Object.fromEntries(next.searchParams)).toEqual({
          from: 'wxhub',
          appid: authorizer,
          status: 'authorized',
        });
        expect(sim.sim.calls(QUERY_AUTH, app.appId)).toBe(before + 1);
        const token = await tokenOf(authorizer);
        expect(token.status).toBe(200);
        const body = (await token.json()) as TokenBody;
        expect(body.appId).toBe(authorizer);
        expect(sim.sim.isTokenValid(body.accessToken)).toBe(true);
        // The code appears nowhere in the table: its row is keyed by a hash of it.
        const code = back.searchParams.get('auth_code') ?? '';
        expect(await rawTableText(raw, 'credentials')).not.toContain(code);
      }
    } finally {
      await close();
    }
  });

  it('a redirect after the push already exchanged the code is a no-op that still knows the authorizer; no authRedirectUrl: a page', async () => {
    const { app, eventUrl, close, hub } = await setup();
    const authorizer = newAuthorizer();
    try {
      const got = await hub.app.request(`/v1/components/${app.name}/auth-url?type=h5`, {
        headers: AUTH,
      });
      const { url } = (await got.json()) as { url: string };
      sim.sim.approveNext(app.appId, { authorizerAppId: authorizer, url: eventUrl });
      const wechat = await fetch(url.replace('#wechat_redirect', ''), { redirect: 'manual' });
      expect(wechat.status).toBe(302);
      await sim.sim.pagePushes();
      const before = sim.sim.calls(QUERY_AUTH, app.appId);
      const back = new URL(wechat.headers.get('location') ?? '');
      const res = await hub.app.request(`${back.pathname}${back.search}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain(authorizer);
      expect(sim.sim.calls(QUERY_AUTH, app.appId)).toBe(before);
    } finally {
      await close();
    }
  });

  it('a redirect arriving while a push is exchanging waits for its result, then redirects', async () => {
    // The hub's api_query_auth answer is held until the redirect has arrived and is waiting.
    let reached = () => {};
    const answered = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hubFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).includes(QUERY_AUTH)) {
        reached();
        await held;
      }
      return res;
    };
    const { app, eventUrl, close, hub } = await setup({ authRedirectUrl: DONE, fetch: hubFetch });
    const authorizer = newAuthorizer();
    try {
      const before = sim.sim.calls(QUERY_AUTH, app.appId);
      const got = await hub.app.request(`/v1/components/${app.name}/auth-url`, { headers: AUTH });
      const { url } = (await got.json()) as { url: string };
      sim.sim.approveNext(app.appId, { authorizerAppId: authorizer, url: eventUrl });
      const wechat = await fetch(url, { redirect: 'manual' });
      const back = new URL(wechat.headers.get('location') ?? '');
      await answered; // the push holds the code's lease, its api_query_auth answer held back
      const redirected = hub.app.request(`${back.pathname}${back.search}`);
      release();
      const res = await redirected;
      const [pushed] = await sim.sim.pagePushes();
      expect(pushed?.body).toBe('success');
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get('location') ?? '').searchParams.get('appid')).toBe(authorizer);
      expect(sim.sim.calls(QUERY_AUTH, app.appId)).toBe(before + 1);
    } finally {
      release();
      await close();
    }
  });

  it('a bad, used or expired code is a 400 page and nothing is stored', async () => {
    const { app, close, hub } = await setup({ authRedirectUrl: DONE });
    const authorizer = newAuthorizer();
    try {
      const redirect = (q: string) => hub.app.request(`/wx/${app.name}/component/authorized?${q}`);
      const missing = await redirect('expires_in=600');
      expect(missing.status).toBe(400);
      expect(await missing.text()).toContain('auth_code');
      expect((await redirect('auth_code=%3Cscript%3E')).status).toBe(400);
      // The component token is fetched first: the table then changes only if a code is kept.
      const warm = await hub.app.request(`/v1/components/${app.name}/token`, { headers: AUTH });
      expect(warm.status).toBe(200);
      const tableBefore = await rawTableText(raw, 'credentials');
      const unknown = await redirect('auth_code=queryauthcode%40%40%40unknown-code');
      expect(unknown.status).toBe(400);
      expect(unknown.headers.get('content-type')).toContain('text/html');
      expect(await unknown.text()).toContain('invalid or expired');
      // An expired code (WeChat answers 61010): refused the same way.
      const { code } = await sim.sim.authorize(app.appId, authorizer);
      sim.sim.clock.advance(3600 * 1000);
      const expired = await redirect(`auth_code=${encodeURIComponent(code ?? '')}`);
      expect(expired.status).toBe(400);
      expect(await rawTableText(raw, 'credentials')).toBe(tableBefore);
    } finally {
      await close();
    }
  });

  it('auth-url: pc and h5 shapes, authType or bizAppId passed through, never both', async () => {
    const { app, close, authUrl } = await setup({
      env: { WXHUB_PUBLIC_URL: 'https://hub.example.com' },
    });
    try {
      const redirectUri = `https://hub.example.com/wx/${app.name}/component/authorized`;
      const pc = await authUrl('type=pc');
      expect(pc.status).toBe(200);
      const pcBody = (await pc.json()) as { url: string; expiresAt: string };
      expect(Date.parse(pcBody.expiresAt) - sim.sim.clock.now()).toBe(600_000);
      const pcUrl = new URL(pcBody.url);
      expect(`${pcUrl.origin}${pcUrl.pathname}`).toBe(`${sim.url}/cgi-bin/componentloginpage`);
      expect([...pcUrl.searchParams.keys()]).toEqual([
        'component_appid',
        'pre_auth_code',
        'redirect_uri',
      ]);
      expect(pcUrl.searchParams.get('redirect_uri')).toBe(redirectUri);
      expect(pcUrl.searchParams.get('pre_auth_code')).toMatch(/^preauthcode@@@/);

      const h5 = ((await (await authUrl('type=h5&authType=2')).json()) as { url: string }).url;
      expect(h5.endsWith('#wechat_redirect')).toBe(true);
      const h5Url = new URL(h5);
      expect(h5Url.pathname).toBe('/safe/bindcomponent');
      expect(Object.fromEntries(h5Url.searchParams)).toMatchObject({
        action: 'bindcomponent',
        no_scan: '1',
        component_appid: app.appId,
        redirect_uri: redirectUri,
        auth_type: '2',
      });
      expect(h5Url.searchParams.has('biz_appid')).toBe(false);
      // A fresh pre-auth code each time.
      expect(h5Url.searchParams.get('pre_auth_code')).not.toBe(
        pcUrl.searchParams.get('pre_auth_code'),
      );

      const biz = new URL(
        ((await (await authUrl('bizAppId=wx1234567890abcdef')).json()) as { url: string }).url,
      );
      expect(biz.pathname).toBe('/cgi-bin/componentloginpage');
      expect(biz.searchParams.get('biz_appid')).toBe('wx1234567890abcdef');
      expect(biz.searchParams.has('auth_type')).toBe(false);

      const calls = sim.sim.calls(PRE_AUTH, app.appId);
      for (const q of [
        'authType=1&bizAppId=wx1234567890abcdef',
        'authType=9',
        'authType=1.5',
        'bizAppId=bad%20id',
        'type=app',
      ]) {
        const res = await authUrl(q);
        expect(res.status, q).toBe(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
      }
      expect(sim.sim.calls(PRE_AUTH, app.appId)).toBe(calls);
    } finally {
      await close();
    }
  });

  it('a component token WeChat no longer takes (40001) is refreshed once and the call made again', async () => {
    const { app, hub, close, authUrl } = await setup();
    try {
      expect((await authUrl('type=pc')).status).toBe(200);
      const key = { owner: `app:${app.name}`, kind: 'component_access_token' };
      const stale = (await hub.deps.store.credentials.get(key))?.value ?? '';
      // Another system fetched a token with the same secret: WeChat refuses the stored one.
      expect(sim.sim.killToken(stale)).toBe(true);
      const before = sim.sim.calls(COMPONENT_TOKEN_PATH, app.appId);
      const res = await authUrl('type=pc');
      expect(res.status).toBe(200);
      expect(sim.sim.calls(COMPONENT_TOKEN_PATH, app.appId)).toBe(before + 1);
      expect((await hub.deps.store.credentials.get(key))?.value).not.toBe(stale);
      // A second refusal within 30 s is not refreshed again: WeChat's error is answered.
      const fresh = (await hub.deps.store.credentials.get(key))?.value ?? '';
      sim.sim.killToken(fresh);
      expect((await authUrl('type=pc')).status).toBe(502);
      expect(sim.sim.calls(COMPONENT_TOKEN_PATH, app.appId)).toBe(before + 1);
    } finally {
      await close();
    }
  });

  it('bad input: unknown component 404, a non-component app 400, no key 401 on /v1', async () => {
    const { app, plain, close, authUrl, hub } = await setup();
    try {
      expect((await authUrl('type=pc', AUTH, 'no-such-component')).status).toBe(404);
      expect((await authUrl('type=pc', AUTH, plain.name)).status).toBe(400);
      expect((await authUrl('type=pc', {})).status).toBe(401);
      // Without WXHUB_PUBLIC_URL, redirect_uri is built on the request's origin (proxy's proto).
      const proxied = await hub.app.request(`http://hub.test/v1/components/${app.name}/auth-url`, {
        headers: { ...AUTH, 'x-forwarded-proto': 'https' },
      });
      const { url } = (await proxied.json()) as { url: string };
      expect(new URL(url).searchParams.get('redirect_uri')).toBe(
        `https://hub.test/wx/${app.name}/component/authorized`,
      );
      const page = (path: string) => hub.app.request(path);
      const unknown = await page('/wx/no-such-component/component/authorize');
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toContain('text/html');
      expect((await page(`/wx/${plain.name}/component/authorize`)).status).toBe(400);
      expect((await page(`/wx/${app.name}/component/authorize?type=app`)).status).toBe(400);
      // WeChat refusing the pre-auth code: a 502 page for the browser, the errcode and no secret.
      sim.sim.injectFault({ path: PRE_AUTH, appId: app.appId, errcode: 61004 });
      const refused = await page(`/wx/${app.name}/component/authorize`);
      expect(refused.status).toBe(502);
      expect(refused.headers.get('content-type')).toContain('text/html');
      expect(await refused.text()).toContain('61004');
      expect(
        (await page('/wx/no-such-component/component/authorized?auth_code=queryauthcode@@@x1'))
          .status,
      ).toBe(404);
    } finally {
      await close();
    }
  });
});
