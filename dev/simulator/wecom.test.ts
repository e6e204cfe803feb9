import { describe, expect, it } from 'vitest';
import { createSimulator } from './app';
import { WECOM_TOKEN_TTL_MS } from './wecom';

const CORP = 'ww0123456789abcdef';
const SECRET = 'corp-secret-1';

function newSim() {
  const sim = createSimulator();
  sim.wecom.register({ corpId: CORP, corpSecret: SECRET, agentId: 1000002 });
  const get = async (path: string, init?: RequestInit) => {
    const res = await sim.app.request(`/qyapi${path}`, init);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { sim, get };
}

const gettoken = (corpid: string, corpsecret: string) =>
  `/cgi-bin/gettoken?${new URLSearchParams({ corpid, corpsecret })}`;

describe('WeCom simulator (/qyapi)', () => {
  it("gettoken follows WeCom's rules: errcode only on failure, 41002/40013/41004/40001", async () => {
    const { sim, get } = newSim();
    const ok = await get(gettoken(CORP, SECRET));
    expect(ok.body).toEqual({ access_token: expect.any(String), expires_in: 7200 });
    expect(ok.body).not.toHaveProperty('errcode');
    const codes = await Promise.all(
      [
        gettoken('', SECRET),
        gettoken('wwunknowncorp0000', SECRET),
        gettoken(CORP, ''),
        gettoken(CORP, 'wrong'),
      ].map(async (p) => (await get(p)).body.errcode),
    );
    expect(codes).toEqual([41002, 40013, 41004, 40001]);
    const post = await get(gettoken(CORP, SECRET), { method: 'POST' });
    expect(post.body.errcode).toBe(43001);
    expect(sim.calls('/qyapi/cgi-bin/gettoken', CORP)).toBe(4);
    expect(sim.calls('/qyapi/cgi-bin/gettoken')).toBe(6);
  });

  it('business APIs check the token: 41001 missing, 40014 unknown, 42001 expired', async () => {
    const { sim, get } = newSim();
    const token = String((await get(gettoken(CORP, SECRET))).body.access_token);
    const user = (t: string) => get(`/cgi-bin/user/get?userid=zhangsan&access_token=${t}`);
    expect((await user(token)).body).toMatchObject({ errcode: 0, userid: 'zhangsan' });
    expect((await get('/cgi-bin/user/get?userid=zhangsan')).body.errcode).toBe(41001);
    expect((await user('nope')).body.errcode).toBe(40014);
    expect((await get(`/cgi-bin/user/get?userid=nobody&access_token=${token}`)).body.errcode).toBe(
      46004,
    );
    // An older token stays valid after a new one is issued, until its own expiry.
    await get(gettoken(CORP, SECRET));
    expect(sim.wecom.isValid(token)).toBe(true);
    sim.clock.advance(WECOM_TOKEN_TTL_MS);
    expect((await user(token)).body.errcode).toBe(42001);
    expect(sim.calls('/qyapi/cgi-bin/user/get', CORP)).toBe(3);
  });

  it('message/send checks the agent and records what was sent; faults apply per corp', async () => {
    const { sim, get } = newSim();
    const token = String((await get(gettoken(CORP, SECRET))).body.access_token);
    const send = (agentid: number) =>
      get(`/cgi-bin/message/send?access_token=${token}`, {
        method: 'POST',
        body: JSON.stringify({
          touser: 'zhangsan',
          msgtype: 'text',
          agentid,
          text: { content: 'x' },
        }),
      });
    expect((await send(1000002)).body.errcode).toBe(0);
    expect((await send(7)).body.errcode).toBe(40056);
    expect(sim.wecom.sent).toHaveLength(1);
    sim.injectFault({ path: '/qyapi/cgi-bin/gettoken', appId: CORP, errcode: -1 });
    const faulted = await get(gettoken(CORP, SECRET));
    expect(faulted.body.errcode).toBe(-1);
    expect(String(faulted.body.errmsg)).toContain('more info at');
    expect((await get(gettoken(CORP, SECRET))).body.access_token).toBeDefined();
    expect((await get('/cgi-bin/not/simulated')).status).toBe(404);
  });

  it('control routes add an app and refuse a bad one (400)', async () => {
    const sim = createSimulator();
    const post = (path: string, body: unknown) =>
      sim.app.request(path, { method: 'POST', body: JSON.stringify(body) });
    const added = await post('/__sim/wecom/apps', { corpId: 'wwcontrol0001', corpSecret: 's' });
    expect(added.status).toBe(200);
    const res = await sim.app.request('/qyapi/cgi-bin/gettoken?corpid=wwcontrol0001&corpsecret=s');
    expect(await res.json()).toHaveProperty('access_token');
    expect((await post('/__sim/wecom/apps', { corpId: 'x y', corpSecret: '' })).status).toBe(400);
    const noSettings = await post('/__sim/wecom/push', {
      corpId: 'wwcontrol0001',
      url: 'http://127.0.0.1:9/wx/x/callback',
    });
    expect(noSettings.status).toBe(400);
  });
});
