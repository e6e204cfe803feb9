import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { APP, APP2, classicToken, MIN, newSim, post } from './test-helpers';

type Body = Record<string, unknown> & { errcode?: number; errmsg?: string };

async function send(sim: ReturnType<typeof newSim>, path: string, token: string, body: unknown) {
  return (await post(sim, `${path}?access_token=${token}`, body)).body as Body;
}

describe('getuserphonenumber', () => {
  it('answers phone_info once per code, within 5 minutes, for its app and openid', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    const code = sim.capabilities.issuePhoneCode(APP.appId, { purePhoneNumber: '13812345678' });
    const ok = await send(sim, '/wxa/business/getuserphonenumber', t, { code });
    expect(ok).toMatchObject({
      errcode: 0,
      phone_info: {
        phoneNumber: '13812345678',
        purePhoneNumber: '13812345678',
        countryCode: '86',
        watermark: { appid: APP.appId },
      },
    });
    expect((await send(sim, '/wxa/business/getuserphonenumber', t, { code })).errcode).toBe(40029);
    const late = sim.capabilities.issuePhoneCode(APP.appId, { purePhoneNumber: '13812345678' });
    sim.clock.advance(5 * MIN);
    const t2 = await classicToken(sim);
    expect((await send(sim, '/wxa/business/getuserphonenumber', t2, { code: late })).errcode).toBe(
      40029,
    );
    const other = sim.capabilities.issuePhoneCode(APP2.appId, { purePhoneNumber: '13812345678' });
    expect((await send(sim, '/wxa/business/getuserphonenumber', t2, { code: other })).errcode).toBe(
      40029,
    );
    const bound = sim.capabilities.issuePhoneCode(
      APP.appId,
      { purePhoneNumber: '1'.repeat(11) },
      'o-1',
    );
    const wrong = await send(sim, '/wxa/business/getuserphonenumber', t2, {
      code: bound,
      openid: 'o-2',
    });
    expect(wrong.errcode).toBe(40029);
  });
});

describe('subscribeMessage.send', () => {
  it('spends one granted subscription per message: 43101 without one', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    const message = { touser: 'o-1', template_id: 'tpl', data: { thing1: { value: 'x' } } };
    const path = '/cgi-bin/message/subscribe/send';
    expect((await send(sim, path, t, message)).errcode).toBe(43101);
    sim.capabilities.grantSubscription(APP.appId, 'o-1', 'tpl', 2);
    const res = await sim.app.request(`${path}?access_token=${t}`, {
      method: 'POST',
      body: JSON.stringify(message),
    });
    const text = await res.text();
    // The msgid is a JSON number above 2^53, as WeChat's are.
    expect(text).toMatch(/^\{"errcode":0,"errmsg":"ok","msgid":\d{19}\}$/);
    expect((await send(sim, path, t, message)).errcode).toBe(0);
    expect((await send(sim, path, t, message)).errcode).toBe(43101);
    expect(sim.capabilities.subscribeMessages(APP.appId)).toHaveLength(2);
    expect((await send(sim, path, t, { ...message, touser: '' })).errcode).toBe(40003);
  });
});

describe('getwxacode and createwxaqrcode', () => {
  it('answer a real PNG per call and share one lifetime quota of 100,000 (45029)', async () => {
    const sim = newSim();
    const t = await classicToken(sim);
    const res = await sim.app.request(`/wxa/getwxacode?access_token=${t}`, {
      method: 'POST',
      body: JSON.stringify({ path: 'pages/a' }),
    });
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await res.arrayBuffer());
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // The image data inflates to 116 rows of 1 filter byte + 116 grey pixels.
    const idat = png.indexOf('IDAT', 0, 'latin1');
    const length = png.readUInt32BE(idat - 4);
    expect(inflateSync(png.subarray(idat + 4, idat + 4 + length)).length).toBe(116 * 117);
    sim.capabilities.setWxacodeQuotaUsed(APP.appId, 99_999);
    const qr = await sim.app.request(`/cgi-bin/wxaapp/createwxaqrcode?access_token=${t}`, {
      method: 'POST',
      body: JSON.stringify({ path: 'pages/b' }),
    });
    expect(qr.headers.get('content-type')).toBe('image/png');
    const spent = await send(sim, '/wxa/getwxacode', t, { path: 'pages/c' });
    expect(spent.errcode).toBe(45029);
    expect(
      (await send(sim, '/cgi-bin/wxaapp/createwxaqrcode', t, { path: 'x'.repeat(129) })).errcode,
    ).toBe(40159);
  });
});

describe('control routes', () => {
  it('issue phone codes and grant subscriptions over HTTP; bad input is a 400', async () => {
    const sim = newSim();
    const issued = await post(sim, '/__sim/phone-codes', {
      appId: APP.appId,
      purePhoneNumber: '13812345678',
    });
    expect((issued.body as { code?: string }).code).toMatch(/^[a-z0-9]{32}$/);
    const bad = await post(sim, '/__sim/phone-codes', { appId: APP.appId, purePhoneNumber: 'x' });
    expect(bad.res.status).toBe(400);
    const granted = await post(sim, '/__sim/subscriptions', {
      appId: APP.appId,
      openid: 'o',
      templateId: 't',
    });
    expect(granted.res.status).toBe(200);
    const quota = await post(sim, '/__sim/wxacode-quota', { appId: APP.appId, used: 100_000 });
    expect(quota.res.status).toBe(200);
    expect(sim.capabilities.wxacodeQuotaUsed(APP.appId)).toBe(100_000);
  });
});
