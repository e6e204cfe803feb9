import { describe, expect, it } from 'vitest';
import type { Simulator } from './app';
import { APP, call, classic, classicToken, newSim, SEC, T0, useToken } from './test-helpers';

async function ctl(sim: Simulator, method: string, path: string, body?: unknown) {
  const init: RequestInit = { method };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await sim.app.request(`/__sim${path}`, init);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('/__sim control routes', () => {
  it('registers apps and rejects bad app input with 400', async () => {
    const sim = newSim({ apps: [] });
    expect((await ctl(sim, 'POST', '/apps', APP)).status).toBe(200);
    expect((await classic(sim)).body.access_token).toBeDefined();
    const missing = await ctl(sim, 'POST', '/apps', { appId: 'wx9' });
    expect(missing.status).toBe(400);
    expect(String(missing.json.error)).toContain('secret');
    const notJson = await ctl(sim, 'POST', '/apps', '{oops');
    expect(notJson.status).toBe(400);
    expect(notJson.json.error).toBe('request body must be valid JSON');
    expect((await ctl(sim, 'POST', '/apps', { ...APP, extra: 1 })).status).toBe(400);
  });

  it('injects and clears faults', async () => {
    const sim = newSim();
    expect(
      (await ctl(sim, 'POST', '/faults', { path: '/cgi-bin/token', errcode: -1, times: 2 })).status,
    ).toBe(200);
    expect((await classic(sim)).body.errcode).toBe(-1);
    expect((await ctl(sim, 'DELETE', '/faults')).status).toBe(200);
    expect((await classic(sim)).body.access_token).toBeDefined();
    const bad = await ctl(sim, 'POST', '/faults', { path: '/cgi-bin/token', status: 'boom' });
    expect(bad.status).toBe(400);
    expect(String(bad.json.error)).toContain('status');
  });

  it('reports calls and counters, without counting control calls', async () => {
    const sim = newSim();
    await classicToken(sim);
    await call(sim, '/cgi-bin/token?grant_type=client_credential&appid=wxx&secret=y');
    const all = await ctl(sim, 'GET', '/calls?path=/cgi-bin/token');
    expect(all.json).toEqual({ calls: 2 });
    const mine = await ctl(
      sim,
      'GET',
      `/calls?path=${encodeURIComponent('/cgi-bin/token')}&appId=${APP.appId}`,
    );
    expect(mine.json).toEqual({ calls: 1 });
    expect((await ctl(sim, 'GET', '/calls')).status).toBe(400);
    const counters = await ctl(sim, 'GET', '/counters');
    expect(counters.json).toEqual({
      byPath: { '/cgi-bin/token': 2 },
      byApp: { '/cgi-bin/token': { [APP.appId]: 1 } },
    });
  });

  it('moves the clock and validates clock input', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    expect((await ctl(sim, 'POST', '/clock', { advanceMs: 7200 * SEC })).json).toEqual({
      now: T0 + 7200 * SEC,
    });
    expect(await useToken(sim, t)).toBe(42001);
    expect((await ctl(sim, 'POST', '/clock', { setMs: T0 })).json).toEqual({ now: T0 });
    expect((await ctl(sim, 'GET', '/clock')).json).toEqual({ now: T0 });
    expect(await useToken(sim, t)).toBe(0);
    for (const bad of [{}, { advanceMs: 1, setMs: 2 }, { advanceMs: '5' }, 'nope']) {
      expect((await ctl(sim, 'POST', '/clock', bad)).status, JSON.stringify(bad)).toBe(400);
    }
  });

  it('checks tokens, mints login codes and resets', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    expect((await ctl(sim, 'GET', `/tokens/check?access_token=${t}`)).json).toEqual({
      valid: true,
    });
    expect((await ctl(sim, 'GET', '/tokens/check?access_token=abc')).json).toEqual({
      valid: false,
    });
    expect((await ctl(sim, 'GET', '/tokens/check')).status).toBe(400);
    const minted = await ctl(sim, 'POST', '/login-codes', {
      appId: APP.appId,
      openid: 'o9',
      unionid: 'u9',
    });
    const code = String(minted.json.code);
    const q = `appid=${APP.appId}&secret=${APP.secret}&js_code=${code}&grant_type=authorization_code`;
    expect((await call(sim, `/sns/jscode2session?${q}`)).body).toMatchObject({
      openid: 'o9',
      unionid: 'u9',
    });
    const unknown = await ctl(sim, 'POST', '/login-codes', { appId: 'wxnone', openid: 'o' });
    expect(unknown.status).toBe(400);
    expect(String(unknown.json.error)).toContain('wxnone');
    expect((await ctl(sim, 'POST', '/reset')).json).toEqual({ ok: true });
    expect((await ctl(sim, 'GET', `/tokens/check?access_token=${t}`)).json).toEqual({
      valid: false,
    });
    expect((await ctl(sim, 'GET', '/nope')).status).toBe(404);
    expect(sim.counters().byPath).toEqual({});
  });
});
