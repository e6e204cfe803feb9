import { describe, expect, it } from 'vitest';
import {
  APP,
  APP2,
  call,
  classic,
  classicToken,
  newSim,
  RID_SUFFIX,
  stable,
  useToken,
} from './test-helpers';

describe('faults', () => {
  it('answers an injected errcode once with the default errmsg, then behaves normally', async () => {
    const sim = newSim();
    sim.injectFault({ path: '/cgi-bin/token', errcode: -1 });
    const faulted = await classic(sim);
    expect(faulted.res.status).toBe(200);
    expect(faulted.body.errcode).toBe(-1);
    expect(faulted.body.errmsg).toMatch(/^system error rid: /);
    expect((await classic(sim)).body.access_token).toBeDefined();
    expect(sim.calls('/cgi-bin/token')).toBe(2);
    expect(sim.calls('/cgi-bin/token', APP.appId)).toBe(2);
  });

  it('uses WeChat default texts per errcode and a custom errmsg when given', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    const expected: Array<[number, RegExp]> = [
      [40001, /^invalid credential, access_token is invalid or not latest/],
      [42001, /^access_token expired rid: /],
      [40014, /^invalid access_token rid: /],
      [45009, /^reach max api daily quota limit rid: /],
      [40164, /^invalid ip 203\.0\.113\.7 ipv6 ::ffff:203\.0\.113\.7, not in whitelist rid: /],
    ];
    for (const [errcode, text] of expected) {
      sim.injectFault({ path: '/cgi-bin/getcallbackip', errcode });
      const { body } = await call(sim, `/cgi-bin/getcallbackip?access_token=${t}`);
      expect(body.errcode).toBe(errcode);
      expect(body.errmsg).toMatch(text);
      expect(body.errmsg).toMatch(RID_SUFFIX);
    }
    sim.injectFault({ path: '/cgi-bin/getcallbackip', errcode: 40001, errmsg: 'custom text' });
    const { body } = await call(sim, `/cgi-bin/getcallbackip?access_token=${t}`);
    expect(body.errmsg).toMatch(/^custom text rid: /);
    // the fault did not kill the real token
    expect(await useToken(sim, t)).toBe(0);
  });

  it('answers an HTTP 5xx with an HTML body, `times` in a row', async () => {
    const sim = newSim();
    sim.injectFault({ path: '/cgi-bin/stable_token', status: 503, times: 2 });
    for (let i = 0; i < 2; i += 1) {
      const res = await sim.app.request('/cgi-bin/stable_token', {
        method: 'POST',
        body: JSON.stringify({
          grant_type: 'client_credential',
          appid: APP.appId,
          secret: APP.secret,
        }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('503');
    }
    expect((await stable(sim)).body.access_token).toBeDefined();
    expect(sim.calls('/cgi-bin/stable_token', APP.appId)).toBe(3);
  });

  it('delays (real time) then answers normally, or delays then errs', async () => {
    const sim = newSim();
    sim.injectFault({ path: '/cgi-bin/token', delayMs: 120 });
    let started = performance.now();
    const slow = await classic(sim);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    expect(slow.body.access_token).toBeDefined();
    sim.injectFault({ path: '/cgi-bin/token', delayMs: 80, errcode: 45009 });
    started = performance.now();
    const slowErr = await classic(sim);
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
    expect(slowErr.body.errcode).toBe(45009);
    started = performance.now();
    await classic(sim);
    expect(performance.now() - started).toBeLessThan(70);
  });

  it('matches per-app faults by appid param and by token owner, leaving others alone', async () => {
    const sim = newSim();
    sim.injectFault({ path: '/cgi-bin/token', appId: APP2.appId, errcode: -1 });
    expect((await classic(sim, APP)).body.access_token).toBeDefined();
    expect((await classic(sim, APP2)).body.errcode).toBe(-1);
    expect((await classic(sim, APP2)).body.access_token).toBeDefined();
    const t1 = await classicToken(sim, APP);
    const t2 = await classicToken(sim, APP2);
    sim.injectFault({ path: '/cgi-bin/getcallbackip', appId: APP2.appId, errcode: 42001 });
    expect(await useToken(sim, t1)).toBe(0);
    expect(await useToken(sim, t2)).toBe(42001);
    expect(await useToken(sim, t2)).toBe(0);
    sim.injectFault({ path: '/cgi-bin/stable_token', appId: APP2.appId, errcode: -1 });
    expect((await stable(sim, APP)).body.errcode).toBeUndefined();
    expect((await stable(sim, APP2)).body.errcode).toBe(-1);
  });

  it('consumes faults FIFO per path and clears them', async () => {
    const sim = newSim();
    sim.injectFault({ path: '/cgi-bin/token', errcode: 40001 });
    sim.injectFault({ path: '/cgi-bin/token', status: 502 });
    sim.injectFault({ path: '/cgi-bin/getcallbackip', errcode: -1 });
    expect((await classic(sim)).body.errcode).toBe(40001);
    const second = await sim.app.request(
      `/cgi-bin/token?grant_type=client_credential&appid=${APP.appId}&secret=${APP.secret}`,
    );
    expect(second.status).toBe(502);
    sim.clearFaults();
    expect(await useToken(sim, await classicToken(sim))).toBe(0);
  });

  it('rejects invalid faults', () => {
    const sim = newSim();
    expect(() => sim.injectFault({ path: 'cgi-bin/token', errcode: -1 })).toThrow();
    expect(() => sim.injectFault({ path: '/cgi-bin/token', times: 0 })).toThrow();
    expect(() => sim.injectFault({ path: '/cgi-bin/token', status: 42 })).toThrow();
  });
});

describe('counters and reset', () => {
  it('counts by path and by known app, including errors and unknown apps', async () => {
    const sim = newSim();
    const t = await classicToken(sim, APP2);
    await useToken(sim, t);
    await useToken(sim, 'garbage');
    await call(sim, '/cgi-bin/token?grant_type=client_credential&appid=wxstranger&secret=x');
    expect(sim.calls('/cgi-bin/token')).toBe(2);
    expect(sim.calls('/cgi-bin/token', APP2.appId)).toBe(1);
    expect(sim.calls('/cgi-bin/token', 'wxstranger')).toBe(0);
    expect(sim.calls('/cgi-bin/getcallbackip')).toBe(2);
    expect(sim.calls('/cgi-bin/getcallbackip', APP2.appId)).toBe(1);
    expect(sim.calls('/cgi-bin/getcallbackip', APP.appId)).toBe(0);
    expect(sim.counters()).toEqual({
      byPath: { '/cgi-bin/token': 2, '/cgi-bin/getcallbackip': 2 },
      byApp: {
        '/cgi-bin/token': { [APP2.appId]: 1 },
        '/cgi-bin/getcallbackip': { [APP2.appId]: 1 },
      },
    });
    sim.resetCounters();
    expect(sim.calls('/cgi-bin/token')).toBe(0);
    expect(sim.isTokenValid(t)).toBe(true);
  });

  it('reset() forgets tokens, codes, faults, quotas and counters but keeps apps', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    const s = (await stable(sim, APP, true)).body.access_token ?? '';
    const code = sim.issueLoginCode(APP.appId, 'o1');
    sim.injectFault({ path: '/cgi-bin/token', errcode: -1 });
    sim.reset();
    expect(sim.isTokenValid(t)).toBe(false);
    expect(sim.isTokenValid(s)).toBe(false);
    expect(await useToken(sim, t)).toBe(40001);
    const q = `appid=${APP.appId}&secret=${APP.secret}&js_code=${code}&grant_type=authorization_code`;
    expect((await call(sim, `/sns/jscode2session?${q}`)).body.errcode).toBe(40029);
    expect((await stable(sim, APP, true)).body.access_token).toBeDefined();
    expect((await classic(sim)).body.access_token).toBeDefined();
    expect(sim.calls('/cgi-bin/token')).toBe(1);
  });
});

describe('transport faults', () => {
  it('answers a redirect, extra headers and a padded body of an exact size', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    const path = `/cgi-bin/getcallbackip?access_token=${t}`;
    sim.injectFault({ path: '/cgi-bin/getcallbackip', redirect: 'https://evil.example/x' });
    const moved = await sim.app.request(path);
    expect(moved.status).toBe(302);
    expect(moved.headers.get('location')).toBe('https://evil.example/x');
    sim.injectFault({ path: '/cgi-bin/getcallbackip', headers: { 'set-cookie': 'sid=1' } });
    const cookie = await call(sim, path);
    expect(cookie.res.headers.get('set-cookie')).toBe('sid=1');
    expect(cookie.body.ip_list).toBeDefined();
    sim.injectFault({ path: '/cgi-bin/getcallbackip', bodyBytes: 100_000 });
    const big = await sim.app.request(path);
    expect(big.headers.get('content-length')).toBe('100000');
    const text = await big.text();
    expect(text.length).toBe(100_000);
    expect((JSON.parse(text) as { pad: string }).pad).toMatch(/^x+$/);
    sim.injectFault({ path: '/cgi-bin/getcallbackip', bodyBytes: 20, chunked: true });
    const chunked = await sim.app.request(path);
    expect(chunked.headers.get('content-length')).toBeNull();
    expect(await chunked.text()).toBe('{"pad":"xxxxxxxxxx"}');
  });

  it('sends the first bytes of a stalled answer and then nothing', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    sim.injectFault({ path: '/cgi-bin/getcallbackip', stallAfterBytes: 5 });
    const res = await sim.app.request(`/cgi-bin/getcallbackip?access_token=${t}`);
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toBe('{"ip_');
    const next = reader?.read();
    const waited = await Promise.race([
      next,
      new Promise((resolve) => setTimeout(() => resolve('stalled'), 50)),
    ]);
    expect(waited).toBe('stalled');
    await reader?.cancel();
  });
});
