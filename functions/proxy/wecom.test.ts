import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testWecomApp } from '../testing';

const GETTOKEN = '/qyapi/cgi-bin/gettoken';
const USER_GET = '/qyapi/cgi-bin/user/get';
const SEND = '/qyapi/cgi-bin/message/send';

describe.each(testTargets())('proxy for WeCom apps on $name', (target) => {
  const app = testWecomApp({ agentId: 1000002 });
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [app], env: { WXHUB_PROXY_TIMEOUT_MS: '300' } });
  });
  afterAll(() => hub.close());
  const sim = () => hub.sim.sim;
  const proxy = (path: string, init: RequestInit = {}) =>
    hub.app.request(`/v1/proxy/${app.name}/${path}`, {
      ...init,
      headers: { ...AUTH, ...(init.headers as Record<string, string>) },
    });

  it("goes to WECOM_API_BASE with the app's WeCom token (a caller's one replaced)", async () => {
    const res = await proxy('cgi-bin/user/get?userid=zhangsan&access_token=forged');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ errcode: 0, userid: 'zhangsan' });
    expect(sim().calls(USER_GET, app.appId)).toBe(1);
    expect(sim().calls(GETTOKEN, app.appId)).toBe(1);
    // Nothing went to WeChat's host.
    expect(sim().calls('/cgi-bin/user/get')).toBe(0);
  });

  it('passes a POST JSON body through', async () => {
    const body = { touser: 'zhangsan', msgtype: 'text', agentid: 1000002, text: { content: 'hi' } };
    const res = await proxy('cgi-bin/message/send', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(await res.json()).toMatchObject({ errcode: 0 });
    expect(sim().wecom.sent.at(-1)).toMatchObject({ corpId: app.appId, touser: 'zhangsan' });
  });

  it('a token WeCom expired early (42001) is replaced once and the call retried', async () => {
    const served = await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
    const { accessToken } = (await served.json()) as { accessToken: string };
    sim().wecom.kill(accessToken, 42001);
    const before = sim().calls(GETTOKEN, app.appId);
    const res = await proxy('cgi-bin/user/get?userid=zhangsan');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ errcode: 0, userid: 'zhangsan' });
    expect(sim().calls(GETTOKEN, app.appId)).toBe(before + 1);
    const now = (await (
      await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH })
    ).json()) as { accessToken: string };
    expect(now.accessToken).not.toBe(accessToken);
  });

  it('40014 is retried too; a second failure is answered as WeCom sent it', async () => {
    sim().clock.advance(30_000);
    sim().injectFault({ path: USER_GET, errcode: 40014, times: 2 });
    const res = await proxy('cgi-bin/user/get?userid=zhangsan');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { errcode: number }).errcode).toBe(40014);
  });

  it("WeCom's 40001 (an invalid secret) is not a dead token: answered as sent, no new token", async () => {
    sim().clock.advance(30_000);
    const before = sim().calls(GETTOKEN, app.appId);
    sim().injectFault({ path: USER_GET, errcode: 40001 });
    const res = await proxy('cgi-bin/user/get?userid=zhangsan');
    expect(((await res.json()) as { errcode: number }).errcode).toBe(40001);
    expect(sim().calls(GETTOKEN, app.appId)).toBe(before);
  });

  it('gettoken through the proxy is refused (403) naming the hub route; no call is made', async () => {
    const before = sim().calls(GETTOKEN);
    const res = await proxy('cgi-bin/gettoken?corpid=x&corpsecret=y');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain(`GET /v1/apps/${app.name}/token`);
    expect(sim().calls(GETTOKEN)).toBe(before);
  });

  it('WeCom not answering in time is a 504', async () => {
    sim().injectFault({ path: SEND, delayMs: 1_000 });
    const res = await proxy('cgi-bin/message/send', { method: 'POST', body: '{}' });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UPSTREAM_TIMEOUT');
  });
});
