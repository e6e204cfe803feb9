import { describe, expect, it } from 'vitest';
import {
  APP,
  APP2,
  call,
  classic,
  classicToken,
  MIN,
  newSim,
  post,
  RID_SUFFIX,
  SEC,
  stable,
  T0,
  useToken,
} from './test-helpers';

describe('classic /cgi-bin/token', () => {
  it('issues a new realistic token each call, expires_in 7200, no errcode', async () => {
    const sim = newSim();
    const a = await classic(sim);
    const b = await classic(sim);
    expect(a.body.errcode).toBeUndefined();
    expect(a.body.expires_in).toBe(7200);
    expect(a.body.access_token).toMatch(/^[A-Za-z0-9_-]{100,}$/);
    expect(b.body.access_token).not.toBe(a.body.access_token);
    expect(Object.keys(a.body).sort()).toEqual(['access_token', 'expires_in']);
  });

  it('keeps the previous token alive exactly 5 minutes after the next issue', async () => {
    const sim = newSim();
    const t1 = await classicToken(sim);
    sim.clock.advance(10 * MIN);
    const t2 = await classicToken(sim);
    sim.clock.advance(4 * MIN + 59 * SEC);
    expect(await useToken(sim, t1)).toBe(0);
    expect(sim.isTokenValid(t1)).toBe(true);
    sim.clock.advance(2 * SEC);
    expect(await useToken(sim, t1)).toBe(40001);
    expect(sim.isTokenValid(t1)).toBe(false);
    expect(await useToken(sim, t2)).toBe(0);
  });

  it('does not extend the deadline of an already-superseded token', async () => {
    const sim = newSim();
    const t1 = await classicToken(sim);
    await classicToken(sim);
    sim.clock.advance(4 * MIN);
    const t3 = await classicToken(sim);
    sim.clock.advance(1 * MIN + 1 * SEC);
    expect(await useToken(sim, t1)).toBe(40001);
    expect(await useToken(sim, t3)).toBe(0);
  });

  it('answers 42001 once a token reaches its own expiry', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    sim.clock.advance(7199 * SEC);
    expect(await useToken(sim, t)).toBe(0);
    sim.clock.advance(1 * SEC);
    expect(await useToken(sim, t)).toBe(42001);
  });

  it('lets an old token expire (42001) when its expiry comes before the overlap ends', async () => {
    const sim = newSim();
    const t1 = await classicToken(sim);
    sim.clock.advance(7198 * SEC);
    await classicToken(sim);
    sim.clock.advance(3 * SEC);
    expect(await useToken(sim, t1)).toBe(42001);
  });

  it('validates parameters with WeChat errcodes and rid suffixes', async () => {
    const sim = newSim();
    const cases: Array<[string, number]> = [
      [`grant_type=client_credential&secret=x`, 41002],
      [`grant_type=nope&appid=${APP.appId}&secret=${APP.secret}`, 40002],
      [`appid=${APP.appId}&secret=${APP.secret}`, 40002],
      [`grant_type=client_credential&appid=${APP.appId}`, 41004],
      [`grant_type=client_credential&appid=wxunknown&secret=x`, 40013],
      [`grant_type=client_credential&appid=${APP.appId}&secret=wrong`, 40125],
    ];
    for (const [query, errcode] of cases) {
      const { res, body } = await call(sim, `/cgi-bin/token?${query}`);
      expect(res.status).toBe(200);
      expect(body.errcode, query).toBe(errcode);
      expect(body.errmsg).toMatch(RID_SUFFIX);
    }
    const { body } = await call(
      sim,
      `/cgi-bin/token?grant_type=client_credential&appid=wxunknown&secret=x`,
    );
    expect(body.errmsg).toMatch(/^invalid appid rid: /);
  });
});

describe('access_token checking', () => {
  it('distinguishes 41001, 40014, 40001 and 42001', async () => {
    const sim = newSim();
    expect((await call(sim, '/cgi-bin/getcallbackip')).body.errcode).toBe(41001);
    expect(await useToken(sim, 'not-a-token')).toBe(40014);
    expect(await useToken(sim, `86_${'A'.repeat(139)}!`)).toBe(40014);
    const forged = `86_${'A'.repeat(140)}`;
    expect(await useToken(sim, forged)).toBe(40001);
    const { body } = await call(sim, `/cgi-bin/getcallbackip?access_token=${forged}`);
    expect(body.errmsg).toContain(
      'access_token is invalid or not latest, could get access_token by getStableAccessToken',
    );
    const t = await classicToken(sim);
    sim.clock.advance(7200 * SEC);
    const expired = await call(sim, `/cgi-bin/getcallbackip?access_token=${t}`);
    expect(expired.body.errcode).toBe(42001);
    expect(expired.body.errmsg).toMatch(/^access_token expired rid: /);
  });
});

describe('stable /cgi-bin/stable_token', () => {
  it('returns the same token with a counting-down expires_in until its last 5 minutes', async () => {
    const sim = newSim();
    const s1 = (await stable(sim)).body;
    expect(s1.expires_in).toBe(7200);
    sim.clock.advance(1000 * SEC + 400);
    const again = (await stable(sim, APP, false)).body;
    expect(again.access_token).toBe(s1.access_token);
    expect(again.expires_in).toBe(6199);
    sim.clock.set(T0 + 6899.5 * SEC); // 300.5 s left: still more than 5 minutes
    const late = (await stable(sim)).body;
    expect(late.access_token).toBe(s1.access_token);
    expect(late.expires_in).toBe(300);
    sim.clock.set(T0 + 6900 * SEC); // exactly 5 minutes left: rotate
    const rotated = (await stable(sim)).body;
    expect(rotated.access_token).not.toBe(s1.access_token);
    expect(rotated.expires_in).toBe(7200);
    // the old one just lives until its own expiry
    sim.clock.advance(299 * SEC);
    expect(await useToken(sim, s1.access_token ?? '')).toBe(0);
    sim.clock.advance(1 * SEC);
    expect(await useToken(sim, s1.access_token ?? '')).toBe(42001);
    expect(await useToken(sim, rotated.access_token ?? '')).toBe(0);
  });

  it('is fully isolated from classic tokens in both directions', async () => {
    const sim = newSim();
    const s = (await stable(sim)).body.access_token ?? '';
    const c1 = await classicToken(sim);
    expect(c1).not.toBe(s);
    sim.clock.advance(6 * MIN);
    await classicToken(sim);
    await classicToken(sim);
    sim.clock.advance(6 * MIN);
    expect(await useToken(sim, s)).toBe(0);
    expect(await useToken(sim, c1)).toBe(40001);
    const c2 = await classicToken(sim);
    const forced = await stable(sim, APP, true);
    expect(forced.body.access_token).not.toBe(s);
    expect(await useToken(sim, c2)).toBe(0);
    expect((await stable(sim)).body.access_token).toBe(forced.body.access_token);
  });

  it('force_refresh issues a new token and kills the previous one immediately', async () => {
    const sim = newSim();
    const s1 = (await stable(sim)).body.access_token ?? '';
    sim.clock.advance(10 * MIN);
    const s2 = (await stable(sim, APP, true)).body;
    expect(s2.access_token).not.toBe(s1);
    expect(s2.expires_in).toBe(7200);
    expect(await useToken(sim, s1)).toBe(40001);
    expect(sim.isTokenValid(s1)).toBe(false);
    sim.clock.advance(1 * MIN);
    const normal = (await stable(sim)).body;
    expect(normal.access_token).toBe(s2.access_token);
    expect(normal.expires_in).toBe(7140);
  });

  it('enforces 30 s between force calls with 45011 and issues nothing', async () => {
    const sim = newSim();
    const s1 = (await stable(sim, APP, true)).body.access_token ?? '';
    sim.clock.advance(29 * SEC);
    const early = (await stable(sim, APP, true)).body;
    expect(early.errcode).toBe(45011);
    expect(early.errmsg).toMatch(/^api minute-quota reach limit .* rid: /);
    expect(early.access_token).toBeUndefined();
    expect(sim.isTokenValid(s1)).toBe(true);
    expect((await stable(sim)).body.access_token).toBe(s1);
    sim.clock.advance(1 * SEC);
    const ok = (await stable(sim, APP, true)).body;
    expect(ok.access_token).toBeDefined();
    expect(ok.access_token).not.toBe(s1);
    expect((await stable(sim, APP2, true)).body.errcode).toBeUndefined();
  });

  it('caps force_refresh at 20 per UTC+8 day with 45009, reset at Beijing midnight', async () => {
    const sim = newSim();
    for (let i = 0; i < 20; i += 1) {
      const { body } = await stable(sim, APP, true);
      expect(body.errcode, `force #${i + 1}`).toBeUndefined();
      sim.clock.advance(30 * SEC);
    }
    const capped = (await stable(sim, APP, true)).body;
    expect(capped.errcode).toBe(45009);
    expect(capped.errmsg).toMatch(/^reach max api daily quota limit rid: /);
    expect((await stable(sim, APP2, true)).body.errcode).toBeUndefined();
    sim.clock.set(Date.UTC(2025, 0, 15, 15, 59, 59)); // 23:59:59 UTC+8
    expect((await stable(sim, APP, true)).body.errcode).toBe(45009);
    sim.clock.set(Date.UTC(2025, 0, 15, 16, 0, 1)); // 00:00:01 UTC+8 next day, same UTC day
    expect((await stable(sim, APP, true)).body.errcode).toBeUndefined();
  });

  it('rejects GET, empty and non-JSON bodies and bad credentials', async () => {
    const sim = newSim();
    const get = await call(sim, '/cgi-bin/stable_token');
    expect(get.body.errcode).toBe(43002);
    expect(get.body.errmsg).toMatch(/^require POST method rid: /);
    expect((await post(sim, '/cgi-bin/stable_token', '')).body.errcode).toBe(44002);
    expect((await post(sim, '/cgi-bin/stable_token', 'appid=x')).body.errcode).toBe(47001);
    expect((await post(sim, '/cgi-bin/stable_token', '[1]')).body.errcode).toBe(47001);
    expect((await stable(sim, { ...APP, secret: 'bad' })).body.errcode).toBe(40125);
    expect((await stable(sim, { appId: 'wxnope', secret: 's' })).body.errcode).toBe(40013);
    const noAppId = { grant_type: 'client_credential', secret: 's' };
    expect((await post(sim, '/cgi-bin/stable_token', noAppId)).body.errcode).toBe(41002);
    const badGrant = { grant_type: 'x', appid: APP.appId, secret: APP.secret };
    expect((await post(sim, '/cgi-bin/stable_token', badGrant)).body.errcode).toBe(40002);
  });
});
