import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import { testTargets } from '../../shared/store/testing';
import { type ComponentFixture, componentFixture, newAuthorizer } from '../component-fixture';

const COMPONENT_TOKEN = '/cgi-bin/component/api_component_token';
const AUTHORIZER_TOKEN = '/cgi-bin/component/api_authorizer_token';
const OPTION = '/cgi-bin/component/api_get_authorizer_option';
const CALLBACK_IP = '/cgi-bin/getcallbackip';
const CUSTOM_SEND = '/cgi-bin/message/custom/send';

type TokenBody = { accessToken: string };
type ErrorBody = { error: { code: string; message: string } };

describe.each(testTargets())('component and authorizer proxies on $name', (target) => {
  let sim: RunningSimulator;
  let f: ComponentFixture;
  beforeAll(async () => {
    sim = await startSimulator();
    f = await componentFixture(target, sim, 1, {
      env: { WXHUB_BODY_LIMIT_BYTES: '2048', WXHUB_PROXY_BODY_LIMIT_BYTES: '65536' },
    });
  });
  afterAll(async () => {
    await f.close();
    await sim.close();
  });

  const componentProxy = (path: string) => `/v1/components/${f.app.name}/proxy/${path}`;
  const authorizerProxy = (a: string, path: string) =>
    `/v1/components/${f.app.name}/authorizers/${a}/proxy/${path}`;
  const option = (authorizer: string, query = '') =>
    f.request(componentProxy(`cgi-bin/component/api_get_authorizer_option${query}`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        component_appid: f.app.appId,
        authorizer_appid: authorizer,
        option_name: 'voice_recognize',
      }),
    });
  const componentToken = async () =>
    ((await (await f.request(`/v1/components/${f.app.name}/token`)).json()) as TokenBody)
      .accessToken;
  const authorizerToken = async (a: string) =>
    (
      (await (
        await f.request(`/v1/components/${f.app.name}/authorizers/${a}/token`)
      ).json()) as TokenBody
    ).accessToken;

  it('the component proxy adds the component token (a caller’s one replaced) and answers WeChat as it is', async () => {
    const authorizer = newAuthorizer();
    await f.authorize(authorizer);
    const res = await option(authorizer, '?component_access_token=forged&access_token=forged');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toMatchObject({ authorizer_appid: authorizer, option_value: '1' });
    const unknown = await option('wxnever0000000000');
    expect(((await unknown.json()) as { errcode: number }).errcode).toBe(61003);
    expect(sim.sim.calls(OPTION, f.app.appId)).toBe(2);
  });

  it('the component proxy retries once after a killed component token, with one api_component_token', async () => {
    const authorizer = newAuthorizer();
    await f.authorize(authorizer);
    const dead = await componentToken();
    const tokens = sim.sim.calls(COMPONENT_TOKEN, f.app.appId);
    const calls = sim.sim.calls(OPTION, f.app.appId);
    expect(sim.sim.killToken(dead)).toBe(true);
    const res = await option(authorizer);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ option_value: '1' });
    expect(sim.sim.calls(COMPONENT_TOKEN, f.app.appId)).toBe(tokens + 1);
    expect(sim.sim.calls(OPTION, f.app.appId)).toBe(calls + 2);
    expect(await componentToken()).not.toBe(dead);
    // Killed again within 30 s: the refresh is held back and WeChat's 40001 goes out as it is.
    expect(sim.sim.killToken(await componentToken())).toBe(true);
    const held = await option(authorizer);
    expect(((await held.json()) as { errcode: number }).errcode).toBe(40001);
    expect(sim.sim.calls(COMPONENT_TOKEN, f.app.appId)).toBe(tokens + 1);
    sim.sim.clock.advance(30_000);
    expect((await (await option(authorizer)).json()) as object).toMatchObject({
      option_value: '1',
    });
    expect(sim.sim.calls(COMPONENT_TOKEN, f.app.appId)).toBe(tokens + 2);
  });

  it('the authorizer proxy adds the authorizer token and retries once after a killed one', async () => {
    const authorizer = newAuthorizer();
    await f.authorize(authorizer);
    const first = await f.request(
      authorizerProxy(authorizer, 'cgi-bin/getcallbackip?access_token=x'),
    );
    expect(first.status).toBe(200);
    expect(((await first.json()) as { ip_list: string[] }).ip_list.length).toBeGreaterThan(0);
    expect(sim.sim.calls(CALLBACK_IP, authorizer)).toBe(1);
    const dead = await authorizerToken(authorizer);
    expect(sim.sim.killToken(dead)).toBe(true);
    const res = await f.request(authorizerProxy(authorizer, 'cgi-bin/getcallbackip'));
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty('ip_list');
    expect(sim.sim.calls(AUTHORIZER_TOKEN, f.app.appId)).toBe(1);
    expect(sim.sim.calls(CALLBACK_IP, authorizer)).toBe(3);
    const fresh = await authorizerToken(authorizer);
    expect(fresh).not.toBe(dead);
    expect(sim.sim.isTokenValid(fresh)).toBe(true);
    // A second failure right after is answered as WeChat sent it, without another refresh.
    expect(sim.sim.killToken(fresh)).toBe(true);
    const held = await f.request(authorizerProxy(authorizer, 'cgi-bin/getcallbackip'));
    expect(((await held.json()) as { errcode: number }).errcode).toBe(40001);
    expect(sim.sim.calls(AUTHORIZER_TOKEN, f.app.appId)).toBe(1);
    // Past the 30 s: one refresh and one retry only, even when the retry fails too.
    sim.sim.clock.advance(30_000);
    sim.sim.injectFault({ path: CALLBACK_IP, appId: authorizer, errcode: 42001, times: 2 });
    const before = sim.sim.calls(CALLBACK_IP, authorizer);
    const twice = await f.request(authorizerProxy(authorizer, 'cgi-bin/getcallbackip'));
    expect(((await twice.json()) as { errcode: number }).errcode).toBe(42001);
    expect(sim.sim.calls(CALLBACK_IP, authorizer)).toBe(before + 2);
    expect(sim.sim.calls(AUTHORIZER_TOKEN, f.app.appId)).toBe(2);
  });

  it('the authorizer proxy takes bodies up to the proxy limit, not the ordinary one', async () => {
    const authorizer = newAuthorizer();
    await f.authorize(authorizer);
    const body = JSON.stringify({ touser: 'o-user', msgtype: 'text', pad: 'x'.repeat(4096) });
    const send = (path: string) =>
      f.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const res = await send(authorizerProxy(authorizer, 'cgi-bin/message/custom/send'));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { errcode: number }).errcode).toBe(0);
    expect(sim.sim.calls(CUSTOM_SEND, authorizer)).toBe(1);
    const big = await send(componentProxy('cgi-bin/component/api_get_authorizer_option'));
    expect(big.status).not.toBe(413);
  });

  it.each([
    ['cgi-bin/component/api_component_token', 'GET /v1/components/{app}/token'],
    ['cgi-bin/component/api_query_auth', '/authorizers/{appid}/token'],
    ['cgi-bin/component/api_authorizer_token', '/authorizers/{appid}/token'],
    ['CGI-BIN//component/API_AUTHORIZER_TOKEN/', '/authorizers/{appid}/token'],
    ['cgi-bin/component/api_create_preauthcode', '/auth-url'],
    ['cgi-bin/token', 'GET /v1/apps/{app}/token'],
    ['cgi-bin/stable_token', 'GET /v1/apps/{app}/token'],
  ])('the component proxy refuses %s with 403 naming %s, calling nothing', async (path, route) => {
    const before = sim.sim.counters().byPath;
    const res = await f.request(componentProxy(path), { method: 'POST' });
    expect(res.status).toBe(403);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('FORBIDDEN');
    expect(body.error.message).toContain(route.replace('{app}', f.app.name));
    expect(sim.sim.counters().byPath).toEqual(before);
  });

  it.each([
    ['cgi-bin/component/api_authorizer_token', '/authorizers/{appid}/token'],
    ['cgi-bin/component/api_query_auth', '/authorizers/{appid}/token'],
    ['cgi-bin/component/api_component_token', 'GET /v1/components/{app}/token'],
    ['cgi-bin/token', 'GET /v1/components/{app}/authorizers/{authorizer}/token'],
    ['cgi-bin/stable_token', 'GET /v1/components/{app}/authorizers/{authorizer}/token'],
    ['cgi-bin/ticket/getticket?type=jsapi', '/authorizers/{authorizer}/ticket?type=jsapi'],
  ])('the authorizer proxy refuses %s with 403 naming %s, calling nothing', async (path, route) => {
    const authorizer = newAuthorizer();
    await f.authorize(authorizer);
    const before = sim.sim.counters().byPath;
    const res = await f.request(authorizerProxy(authorizer, path));
    expect(res.status).toBe(403);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('FORBIDDEN');
    expect(body.error.message).toContain(
      route.replace('{app}', f.app.name).replace('{authorizer}', authorizer),
    );
    expect(sim.sim.counters().byPath).toEqual(before);
  });

  it('401 without a key, 404 for an unknown component or another component’s authorizer, 410 once revoked', async () => {
    const other = await componentFixture(target, sim);
    const authorizer = newAuthorizer();
    try {
      await f.authorize(authorizer);
      const path = 'cgi-bin/getcallbackip';
      expect((await f.hub.app.request(authorizerProxy(authorizer, path))).status).toBe(401);
      expect((await f.hub.app.request(componentProxy(path))).status).toBe(401);
      const nowhere = `/v1/components/no-such-component`;
      expect((await f.request(`${nowhere}/proxy/${path}`)).status).toBe(404);
      expect((await f.request(`${nowhere}/authorizers/${authorizer}/proxy/${path}`)).status).toBe(
        404,
      );
      const elsewhere = `/v1/components/${other.app.name}/authorizers/${authorizer}/proxy/${path}`;
      expect((await f.request(elsewhere)).status).toBe(404);
      expect((await f.request(authorizerProxy(newAuthorizer(), path))).status).toBe(404);
      await f.unauthorize(authorizer);
      const revoked = await f.request(authorizerProxy(authorizer, path));
      expect(revoked.status).toBe(410);
      expect(((await revoked.json()) as ErrorBody).error.code).toBe('REVOKED');
      expect(sim.sim.calls(CALLBACK_IP, authorizer)).toBe(0);
    } finally {
      await other.close();
    }
  });
});
