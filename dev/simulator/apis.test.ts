import { createHash } from 'node:crypto';
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
} from './test-helpers';

const JSON_UTF8 = 'application/json; encoding=utf-8';

describe('getticket', () => {
  it('returns errcode 0 + ticket, reuses it while valid, per app and type', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    const first = (await call(sim, `/cgi-bin/ticket/getticket?access_token=${t}&type=jsapi`)).body;
    expect(first).toMatchObject({ errcode: 0, errmsg: 'ok', expires_in: 7200 });
    expect(first.ticket).toMatch(/^[A-Za-z0-9_-]{80,}$/);
    sim.clock.advance(30 * MIN);
    const t2 = await classicToken(sim);
    const again = (await call(sim, `/cgi-bin/ticket/getticket?access_token=${t2}&type=jsapi`)).body;
    expect(again.ticket).toBe(first.ticket);
    expect(again.expires_in).toBe(7200);
    const card = (await call(sim, `/cgi-bin/ticket/getticket?access_token=${t2}&type=wx_card`))
      .body;
    expect(card.ticket).toBeDefined();
    expect(card.ticket).not.toBe(first.ticket);
    const other = await classicToken(sim, APP2);
    const app2 = (await call(sim, `/cgi-bin/ticket/getticket?access_token=${other}&type=jsapi`))
      .body;
    expect(app2.ticket).not.toBe(first.ticket);
    expect(sim.calls('/cgi-bin/ticket/getticket')).toBe(4);
    expect(sim.calls('/cgi-bin/ticket/getticket', APP.appId)).toBe(3);
  });

  it('issues a new ticket once the current one is within 5 minutes of expiry', async () => {
    const sim = newSim();
    const url = async () =>
      `/cgi-bin/ticket/getticket?access_token=${(await stable(sim)).body.access_token}&type=jsapi`;
    const first = (await call(sim, await url())).body.ticket;
    sim.clock.advance(7200 * SEC - 5 * MIN - 1);
    expect((await call(sim, await url())).body.ticket).toBe(first);
    sim.clock.advance(1);
    expect((await call(sim, await url())).body.ticket).not.toBe(first);
  });

  it('answers 40097 for a bad type and token errors first', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    for (const q of ['&type=foo', '']) {
      const { body } = await call(sim, `/cgi-bin/ticket/getticket?access_token=${t}${q}`);
      expect(body.errcode).toBe(40097);
      expect(body.errmsg).toMatch(/^invalid args rid: /);
    }
    expect((await call(sim, '/cgi-bin/ticket/getticket?type=jsapi')).body.errcode).toBe(41001);
  });
});

describe('jscode2session', () => {
  const url = (code: string, app = APP, grant = 'authorization_code') =>
    `/sns/jscode2session?appid=${app.appId}&secret=${app.secret}&js_code=${code}&grant_type=${grant}`;

  it('exchanges a code once for openid + session_key (+ unionid when bound)', async () => {
    const sim = newSim();
    const code = sim.issueLoginCode(APP.appId, 'o_user_1', 'u_union_1');
    const { body } = await call(sim, url(code));
    expect(body).toMatchObject({ openid: 'o_user_1', unionid: 'u_union_1' });
    expect(body.session_key).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(body.errcode).toBeUndefined();
    const reused = (await call(sim, url(code))).body;
    expect(reused.errcode).toBe(40163);
    expect(reused.errmsg).toMatch(/^code been used rid: /);
    const plain = (await call(sim, url(sim.issueLoginCode(APP.appId, 'o_user_2')))).body;
    expect(plain.openid).toBe('o_user_2');
    expect('unionid' in plain).toBe(false);
  });

  it('expires codes after 5 minutes and rejects unknown or foreign codes with 40029', async () => {
    const sim = newSim();
    const fresh = sim.issueLoginCode(APP.appId, 'o1');
    const stale = sim.issueLoginCode(APP.appId, 'o2');
    sim.clock.advance(4 * MIN + 59 * SEC);
    expect((await call(sim, url(fresh))).body.openid).toBe('o1');
    sim.clock.advance(1 * SEC);
    expect((await call(sim, url(stale))).body.errcode).toBe(40029);
    expect((await call(sim, url('0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p'))).body.errcode).toBe(40029);
    const foreign = sim.issueLoginCode(APP2.appId, 'o3');
    expect((await call(sim, url(foreign))).body.errcode).toBe(40029);
    expect((await call(sim, url(foreign, APP2))).body.openid).toBe('o3');
  });

  it('checks appid, secret, grant_type and js_code', async () => {
    const sim = newSim();
    const code = sim.issueLoginCode(APP.appId, 'o1');
    expect((await call(sim, url(code, { ...APP, secret: 'bad' }))).body.errcode).toBe(40125);
    expect((await call(sim, url(code, { appId: 'wxnone', secret: 'x' }))).body.errcode).toBe(40013);
    expect((await call(sim, url(code, APP, 'client_credential'))).body.errcode).toBe(40002);
    expect((await call(sim, url('', APP))).body.errcode).toBe(41008);
    expect((await call(sim, url(code))).body.openid).toBe('o1');
    expect(() => sim.issueLoginCode('wxnone', 'o1')).toThrow(/unknown appId/);
  });
});

describe('token-checked JSON APIs', () => {
  it('getcallbackip lists IPs', async () => {
    const sim = newSim();
    const { res, body } = await call(
      sim,
      `/cgi-bin/getcallbackip?access_token=${await classicToken(sim)}`,
    );
    expect(res.headers.get('content-type')).toBe(JSON_UTF8);
    expect(body.ip_list?.length).toBeGreaterThan(0);
    expect(body.errcode).toBeUndefined();
  });

  it('custom/send needs POST, a valid token and a JSON body', async () => {
    const sim = newSim();
    const path = `/cgi-bin/message/custom/send?access_token=${await classicToken(sim)}`;
    const msg = { touser: 'o1', msgtype: 'text', text: { content: 'hi' } };
    expect((await post(sim, path, msg)).body).toMatchObject({ errcode: 0, errmsg: 'ok' });
    expect((await post(sim, path, '{"touser":')).body.errcode).toBe(47001);
    expect((await post(sim, path, '')).body.errcode).toBe(44002);
    expect((await call(sim, path)).body.errcode).toBe(43002);
    expect((await post(sim, '/cgi-bin/message/custom/send?access_token=x', msg)).body.errcode).toBe(
      40014,
    );
    expect((await call(sim, `/cgi-bin/getcallbackip`, { method: 'POST' })).body.errcode).toBe(
      43001,
    );
  });
});

/** The expected image, rebuilt from the documented layout (independent of qrcode.ts). */
function expectedImage(scene: string, page: string, width: number): Buffer {
  const comment = Buffer.from(`wxhub-sim scene=${scene} page=${page} width=${width}`);
  const digest = createHash('sha256').update(comment).digest();
  const ramp = Buffer.from(Array.from({ length: 256 }, (_, i) => ((digest[0] ?? 0) + i) % 256));
  const header = Buffer.from('ffd8ffe000104a46494600010100000100010000fffe', 'hex');
  const len = Buffer.from([0, comment.length + 2]);
  return Buffer.concat([header, len, comment, digest, ramp, Buffer.from('ffd9', 'hex')]);
}

describe('getwxacodeunlimit', () => {
  it('returns deterministic binary image bytes as image/jpeg', async () => {
    const sim = newSim();
    const path = `/wxa/getwxacodeunlimit?access_token=${await classicToken(sim)}`;
    const body = { scene: 'id=42&from=qr', page: 'pages/index/index', width: 280 };
    const res = await sim.app.request(path, { method: 'POST', body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.equals(expectedImage(body.scene, body.page, 280))).toBe(true);
    expect(bytes.includes(0x00)).toBe(true);
    expect(bytes.some((b) => b >= 0x80)).toBe(true);
    const other = await sim.app.request(path, { method: 'POST', body: '{"scene":"a"}' });
    const otherBytes = Buffer.from(await other.arrayBuffer());
    expect(otherBytes.equals(expectedImage('a', '', 430))).toBe(true);
    expect(otherBytes.equals(bytes)).toBe(false);
  });

  it('answers JSON 40169 with encoding=utf-8 for a missing, long or illegal scene', async () => {
    const sim = newSim();
    const path = `/wxa/getwxacodeunlimit?access_token=${await classicToken(sim)}`;
    const bad = [{}, { scene: 'x'.repeat(33) }, { scene: '100%' }, { scene: 12 }, ['a']];
    for (const payload of bad) {
      const { res, body } = await post(sim, path, payload);
      expect(res.headers.get('content-type')).toBe(JSON_UTF8);
      expect(body.errcode, JSON.stringify(payload)).toBe(40169);
      expect(body.errmsg).toMatch(RID_SUFFIX);
    }
    const max = { method: 'POST', body: JSON.stringify({ scene: 'x'.repeat(32) }) };
    expect((await sim.app.request(path, max)).headers.get('content-type')).toBe('image/jpeg');
    expect((await post(sim, path, 'scene=1')).body.errcode).toBe(47001);
    const expired = await post(sim, '/wxa/getwxacodeunlimit', { scene: 'a' });
    expect(expired.res.headers.get('content-type')).toBe(JSON_UTF8);
    expect(expired.body.errcode).toBe(41001);
  });
});

describe('IP whitelist', () => {
  const locked = { appId: 'wx3333333333333333', secret: 's3', ipWhitelist: ['198.51.100.1'] };

  it('answers 40164 naming the egress IP on both token endpoints', async () => {
    const sim = newSim({ apps: [locked] });
    const expected = 'invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: ';
    for (const { body } of [await classic(sim, locked), await stable(sim, locked)]) {
      expect(body.errcode).toBe(40164);
      expect(body.errmsg?.startsWith(expected)).toBe(true);
      expect(body.errmsg).toMatch(RID_SUFFIX);
    }
    const ok = await classic(sim, locked, { 'x-forwarded-for': '198.51.100.1, 10.0.0.1' });
    expect(ok.body.access_token).toBeDefined();
    const code = sim.issueLoginCode(locked.appId, 'o1');
    const q = `appid=${locked.appId}&secret=s3&js_code=${code}&grant_type=authorization_code`;
    expect((await call(sim, `/sns/jscode2session?${q}`)).body.openid).toBe('o1');
  });

  it('uses the egressIp option and honours a re-registered whitelist', async () => {
    const sim = newSim({ apps: [locked], egressIp: '192.0.2.55' });
    const { body } = await stable(sim, locked);
    expect(body.errmsg).toMatch(
      /^invalid ip 192\.0\.2\.55 ipv6 ::ffff:192\.0\.2\.55, not in whitelist/,
    );
    sim.registerApp({ ...locked, ipWhitelist: ['192.0.2.55'] });
    expect((await stable(sim, locked)).body.access_token).toBeDefined();
    sim.registerApp({ appId: locked.appId, secret: 's3' });
    expect(
      (await classic(sim, locked, { 'x-forwarded-for': '8.8.8.8' })).body.errcode,
    ).toBeUndefined();
  });
});

describe('routing', () => {
  it('answers 404 JSON errcode -1 for an unknown path and counts it', async () => {
    const sim = newSim();
    const { res, body } = await call(sim, '/cgi-bin/nope?access_token=x');
    expect(res.status).toBe(404);
    expect(body.errcode).toBe(-1);
    expect(body.errmsg).toMatch(RID_SUFFIX);
    expect(sim.calls('/cgi-bin/nope')).toBe(1);
  });

  it("marks its answer to an unknown path as the simulator's, in the errmsg and a header", async () => {
    const sim = newSim();
    const { res, body } = await call(sim, '/cgi-bin/nope?access_token=x');
    expect(String(body.errmsg)).toMatch(
      /^wxhub simulator: \/cgi-bin\/nope is not a simulated WeChat API .* rid: /,
    );
    expect(res.headers.get('x-wxhub-simulator')).toBe('unknown-path');
    const known = await call(sim, '/cgi-bin/token?grant_type=client_credential');
    expect(known.res.headers.get('x-wxhub-simulator')).toBeNull();
  });

  it('keeps tokens when an app is re-registered with a new secret', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    sim.registerApp({ ...APP, secret: 'rotated' });
    expect(sim.isTokenValid(t)).toBe(true);
    expect((await classic(sim)).body.errcode).toBe(40125);
    expect((await classic(sim, { ...APP, secret: 'rotated' })).body.access_token).toBeDefined();
  });
});

describe('media/upload', () => {
  it('takes a binary body as sent and echoes its size and sha256', async () => {
    const sim = newSim();
    const path = `/cgi-bin/media/upload?type=image&access_token=${await classicToken(sim)}`;
    const bytes = new Uint8Array(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
    const res = await sim.app.request(path, { method: 'POST', body: bytes });
    const body = (await res.json()) as { type: string; media_id: string; size: number };
    expect(body).toMatchObject({
      type: 'image',
      size: 3000,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(body.media_id).toMatch(/^sim-media-/);
    expect((await post(sim, path.replace('image', 'pdf'), 'x')).body.errcode).toBe(40004);
    expect((await post(sim, path, '')).body.errcode).toBe(41005);
    expect((await post(sim, '/cgi-bin/media/upload?type=image', 'x')).body.errcode).toBe(41001);
  });
});
