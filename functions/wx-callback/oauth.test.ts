import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import type { AppConfig } from '../../shared/config';
import { createLogger } from '../../shared/http/log';
import { listen, type RunningServer } from '../../shared/platform/server';
import { rawTableText, testTargets } from '../../shared/store/testing';
import { newAuthorizer, testComponentApp } from '../component-fixture';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

const SHOP = 'https://shop.example.com';
const ALLOWED = [`${SHOP}/oauth/`, `${SHOP}/done`];
const SNS_TOKEN = '/sns/oauth2/access_token';
const SNS_COMPONENT_TOKEN = '/sns/oauth2/component/access_token';
const USERINFO = '/sns/userinfo';

interface Redeemed {
  app: string;
  openid: string;
  unionid?: string;
  scope: string;
  user?: Record<string, unknown>;
  snapshotUser?: boolean;
}

describe.each(testTargets())('OAuth2 web authorization on $name', (target) => {
  let sim: RunningSimulator;
  let hub: TestHub;
  let server: RunningServer;
  const oa = testApp({ oauthRedirects: ALLOWED });
  const mp = testApp({ kind: 'miniprogram' });
  const bare = testApp();
  const component = testComponentApp();
  const authorizer = newAuthorizer();
  const viaComponent: AppConfig = {
    ...testApp({ oauthRedirects: ALLOWED, oauthComponent: component.name }),
    appId: authorizer,
    appSecret: undefined,
  };
  /** Every log line of the hub. */
  const lines: string[] = [];
  /** Every code, OAuth token and ticket seen anywhere in the flows, to look for afterwards. */
  const secrets = new Set<string>();
  /** Every Location the hub answered. */
  const locations: string[] = [];

  /** The global fetch, noting the OAuth tokens WeChat answers the hub. */
  const watching: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const path = new URL(String(input)).pathname;
    if (path === SNS_TOKEN || path === SNS_COMPONENT_TOKEN) {
      const body = (await res.clone().json()) as { access_token?: string; refresh_token?: string };
      for (const t of [body.access_token, body.refresh_token]) if (t) secrets.add(t);
    }
    return res;
  };

  beforeAll(async () => {
    sim = await startSimulator();
    hub = await createTestHub(target, {
      apps: [oa, mp, bare, component, viaComponent],
      sim,
      env: { WECHAT_OPEN_BASE: sim.url },
      fetch: watching,
      log: createLogger('debug', { write: (l: string) => lines.push(l) }),
    });
    server = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
    const eventUrl = `${server.url}/wx/${component.name}/component/event`;
    sim.sim.registerComponent({
      appId: component.appId,
      secret: component.appSecret ?? '',
      token: component.token ?? '',
      encodingAesKey: component.encodingAesKey ?? '',
    });
    await sim.sim.pushTicket(component.appId, eventUrl);
    const pushed = await sim.sim.authorize(component.appId, authorizer, { url: eventUrl });
    expect(pushed.body).toBe('success');
  });
  afterAll(async () => {
    await server.close();
    await hub.close();
  });

  /** What the user on the next OAuth page of `appId` does. */
  async function nextUser(appId: string, user: Record<string, unknown>) {
    const res = await fetch(`${sim.url}/__sim/oauth/next`, {
      method: 'POST',
      body: JSON.stringify({ appId, ...user }),
    });
    expect(res.status).toBe(200);
  }

  /** `GET path` on the hub (over HTTP), noting the Location it answers. */
  async function hubGet(path: string): Promise<Response> {
    const res = await fetch(`${server.url}${path}`, { redirect: 'manual' });
    const at = res.headers.get('location');
    if (at !== null) locations.push(at);
    return res;
  }

  const authorizePath = (app: AppConfig, scope: string, redirect: string) =>
    `/oauth/${app.name}/authorize?${new URLSearchParams({ scope, redirect })}`;

  /** The hub's authorize → WeChat's page (the simulator) → the hub's callback URL. */
  async function toCallback(app: AppConfig, scope: string, redirect: string): Promise<URL> {
    const start = await hubGet(authorizePath(app, scope, redirect));
    expect(start.status).toBe(302);
    const wechat = start.headers.get('location') ?? '';
    expect(wechat.startsWith(`${sim.url}/connect/oauth2/authorize?`)).toBe(true);
    expect(wechat.endsWith('#wechat_redirect')).toBe(true);
    const page = await fetch(wechat, { redirect: 'manual' });
    expect(page.status).toBe(302);
    const back = new URL(page.headers.get('location') ?? '');
    const code = back.searchParams.get('code');
    if (code !== null) secrets.add(code);
    return back;
  }

  /** The callback (as WeChat sent the browser to it) → the caller's page with the ticket. */
  async function flow(app: AppConfig, scope: string, redirect = `${SHOP}/oauth/back?from=a%20b`) {
    const back = await toCallback(app, scope, redirect);
    expect(`${back.origin}${back.pathname}`).toBe(`${server.url}/oauth/${app.name}/callback`);
    const res = await hubGet(`${back.pathname}${back.search}`);
    expect(res.status).toBe(302);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const to = res.headers.get('location') ?? '';
    const ticket = new URL(to).searchParams.get('wxhub_ticket') ?? '';
    secrets.add(ticket);
    return { to, ticket, callback: `${back.pathname}${back.search}` };
  }

  async function redeem(ticket: unknown): Promise<Response> {
    return hub.app.request('/v1/oauth/tickets/redeem', {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ ticket }),
    });
  }

  it('runs snsapi_base to a ticket redeemed once; the redirect keeps its own query', async () => {
    await nextUser(oa.appId, { openid: 'o-base-1' });
    const before = sim.sim.calls(SNS_TOKEN, oa.appId);
    const { to, ticket } = await flow(oa, 'snsapi_base');
    expect(to).toBe(`${SHOP}/oauth/back?from=a%20b&wxhub_ticket=${ticket}`);
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sim.sim.calls(SNS_TOKEN, oa.appId)).toBe(before + 1);
    const res = await redeem(ticket);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ app: oa.name, openid: 'o-base-1', scope: 'snsapi_base' });
    const again = await redeem(ticket);
    expect(again.status).toBe(410);
    expect(await again.json()).toMatchObject({ error: { code: 'GONE' } });
  });

  it('runs snsapi_userinfo: the user, unionid and the userinfo call (zh_CN) once', async () => {
    await nextUser(oa.appId, { openid: 'o-info-1', unionid: 'u-info-1', nickname: '小明' });
    const calls = sim.sim.calls(USERINFO);
    const { ticket } = await flow(oa, 'snsapi_userinfo', `${SHOP}/done`);
    expect(sim.sim.calls(USERINFO)).toBe(calls + 1);
    const body = (await (await redeem(ticket)).json()) as Redeemed;
    expect(body).toMatchObject({
      app: oa.name,
      openid: 'o-info-1',
      unionid: 'u-info-1',
      scope: 'snsapi_userinfo',
      user: { openid: 'o-info-1', nickname: '小明', unionid: 'u-info-1' },
    });
    expect(body.snapshotUser).toBeUndefined();
    expect(JSON.stringify(body)).not.toMatch(/access_token|refresh_token|errcode/);
  });

  it('flags a snapshot-mode user and does not ask for its userinfo', async () => {
    await nextUser(oa.appId, { snapshot: true });
    const calls = sim.sim.calls(USERINFO);
    const { ticket } = await flow(oa, 'snsapi_userinfo');
    expect(sim.sim.calls(USERINFO)).toBe(calls);
    const body = (await (await redeem(ticket)).json()) as Redeemed;
    expect(body).toMatchObject({ scope: 'snsapi_userinfo', snapshotUser: true });
    expect(body.user).toBeUndefined();
  });

  it('refuses a redirect that is not on the allow-list with a 400 page, before WeChat', async () => {
    for (const redirect of [
      'https://evil.example.com/oauth/x',
      `${SHOP}/other`,
      `${SHOP}/oauthx`,
      `${SHOP}/oauth/../admin`,
      `http://shop.example.com/done`,
      `${SHOP}/done#x`,
      '',
    ]) {
      const res = await hubGet(authorizePath(oa, 'snsapi_base', redirect));
      expect(res.status, redirect).toBe(400);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await res.text();
      expect(html).toMatch(redirect === '' ? /redirect is missing/ : /oauthRedirects/);
      expect(html).not.toMatch(/ at |Error:/);
    }
    const scope = await hubGet(authorizePath(oa, 'snsapi_login', `${SHOP}/done`));
    expect(scope.status).toBe(400);
    expect(await scope.text()).toContain('scope must be snsapi_base or snsapi_userinfo');
  });

  it('refuses other app kinds, apps without an allow-list and unknown apps with a page', async () => {
    const kind = await hubGet(authorizePath(mp, 'snsapi_base', `${SHOP}/done`));
    expect(kind.status).toBe(400);
    expect(await kind.text()).toContain('OAuth web authorization is for official apps');
    const none = await hubGet(authorizePath(bare, 'snsapi_base', `${SHOP}/done`));
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('oauthRedirects');
    const unknown = await hubGet('/oauth/no-such-app/authorize?redirect=x');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('refuses a replayed state (the code is not exchanged again)', async () => {
    const { callback } = await flow(oa, 'snsapi_base');
    const calls = sim.sim.calls(SNS_TOKEN, oa.appId);
    const replay = await hubGet(callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('already used');
    expect(sim.sim.calls(SNS_TOKEN, oa.appId)).toBe(calls);
  });

  it('refuses a forged state and a state of another app', async () => {
    const back = await toCallback(oa, 'snsapi_base', `${SHOP}/done`);
    const code = back.searchParams.get('code') ?? '';
    const calls = sim.sim.calls(SNS_TOKEN);
    const forged = await hubGet(`/oauth/${oa.name}/callback?code=${code}&state=${'ab'.repeat(24)}`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('unknown state');
    const junk = await hubGet(`/oauth/${oa.name}/callback?code=${code}&state=<script>`);
    expect(junk.status).toBe(400);
    expect(await junk.text()).not.toContain('<script>');
    const other = await hubGet(`/oauth/${viaComponent.name}/callback${back.search}`);
    expect(other.status).toBe(400);
    expect(await other.text()).toContain('unknown state');
    expect(sim.sim.calls(SNS_TOKEN)).toBe(calls);
  });

  it('refuses a state older than 10 minutes (test clock)', async () => {
    const back = await toCallback(oa, 'snsapi_base', `${SHOP}/done`);
    sim.sim.clock.advance(10 * 60_000);
    const late = await hubGet(`${back.pathname}${back.search}`);
    expect(late.status).toBe(400);
    expect(await late.text()).toContain('expired');
  });

  it('answers a page when the user refuses (WeChat sends back only the state)', async () => {
    await nextUser(oa.appId, { refuse: true });
    const back = await toCallback(oa, 'snsapi_userinfo', `${SHOP}/done`);
    expect(back.searchParams.has('code')).toBe(false);
    const res = await hubGet(`${back.pathname}${back.search}`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('you declined the authorization');
  });

  it('redeems: 404 for a ticket never issued, 400 for a malformed one, 410 after 5 minutes', async () => {
    const unknown = await redeem('A'.repeat(43));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await redeem('short')).status).toBe(400);
    expect((await redeem(42)).status).toBe(400);
    const { ticket } = await flow(oa, 'snsapi_base');
    sim.sim.clock.advance(5 * 60_000);
    expect((await redeem(ticket)).status).toBe(410);
    const anonymous = await hub.app.request('/v1/oauth/tickets/redeem', {
      method: 'POST',
      body: JSON.stringify({ ticket }),
    });
    expect(anonymous.status).toBe(401);
  });

  it("runs the component flow for an authorizer: component_appid, the platform's token", async () => {
    await nextUser(authorizer, { openid: 'o-comp-1', unionid: 'u-comp-1', nickname: '代授权' });
    const start = await hubGet(authorizePath(viaComponent, 'snsapi_userinfo', `${SHOP}/done`));
    const wechat = new URL(start.headers.get('location') ?? '');
    expect(wechat.searchParams.get('appid')).toBe(authorizer);
    expect(wechat.searchParams.get('component_appid')).toBe(component.appId);
    const direct = sim.sim.calls(SNS_TOKEN);
    const via = sim.sim.calls(SNS_COMPONENT_TOKEN);
    const { ticket } = await flow(viaComponent, 'snsapi_userinfo', `${SHOP}/done`);
    expect(sim.sim.calls(SNS_COMPONENT_TOKEN)).toBe(via + 1);
    expect(sim.sim.calls(SNS_TOKEN)).toBe(direct);
    const body = (await (await redeem(ticket)).json()) as Redeemed;
    expect(body).toMatchObject({
      app: viaComponent.name,
      openid: 'o-comp-1',
      unionid: 'u-comp-1',
      user: { nickname: '代授权' },
    });
  });

  it('refreshes a component token WeChat refused (40001) and exchanges the code once more', async () => {
    const got = await hub.app.request(`/v1/components/${component.name}/token`, { headers: AUTH });
    const { accessToken } = (await got.json()) as { accessToken: string };
    expect(sim.sim.killToken(accessToken)).toBe(true);
    const via = sim.sim.calls(SNS_COMPONENT_TOKEN);
    const { ticket } = await flow(viaComponent, 'snsapi_base', `${SHOP}/done`);
    expect(sim.sim.calls(SNS_COMPONENT_TOKEN)).toBe(via + 2);
    expect((await redeem(ticket)).status).toBe(200);
  });

  it('puts no code, OAuth token or ticket in a Location it builds, a log line or a table', async () => {
    expect(secrets.size).toBeGreaterThan(10);
    expect(locations.length).toBeGreaterThan(10);
    expect(lines.length).toBeGreaterThan(10);
    const own = locations.filter((l) => !l.startsWith(`${sim.url}/connect/`));
    const tables = [
      await rawTableText(hub.opened, 'oauth_states'),
      await rawTableText(hub.opened, 'oauth_tickets'),
    ].join('\n');
    for (const s of secrets) {
      for (const l of own) if (!l.endsWith(`wxhub_ticket=${s}`)) expect(l).not.toContain(s);
      for (const l of lines) expect(l).not.toContain(s);
      expect(tables).not.toContain(s);
    }
    for (const l of own) expect(l).not.toMatch(/[?&](code|access_token|state)=/);
  });
});
