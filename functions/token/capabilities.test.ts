import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/http/log';
import { testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

type Envelope = { error: { code: string; message: string; requestId: string; errcode?: number } };

describe.each(testTargets())('mini program capability routes on $name', (target) => {
  const mp = testApp({ kind: 'miniprogram', tokenMode: 'classic' });
  const oa = testApp({ kind: 'official' });
  const lines: string[] = [];
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, {
      apps: [mp, oa],
      log: createLogger('debug', { write: (l: string) => lines.push(l) }),
    });
  });
  afterAll(() => hub.close());
  const sim = () => hub.sim.sim;
  const post = (path: string, body: unknown, headers: Record<string, string> = JSON_AUTH) =>
    hub.app.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
  const envelope = async (res: Response) => (await res.json()) as Envelope;

  describe('POST /v1/apps/{app}/phone-number', () => {
    it('answers the number once; the used code is 502 with errcode 40029; logs mask it', async () => {
      const code = sim().capabilities.issuePhoneCode(mp.appId, { purePhoneNumber: '13812345678' });
      const res = await post(`/v1/apps/${mp.name}/phone-number`, { code });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        phoneNumber: '13812345678',
        purePhoneNumber: '13812345678',
        countryCode: '86',
      });
      const again = await post(`/v1/apps/${mp.name}/phone-number`, { code });
      expect(again.status).toBe(502);
      const body = await envelope(again);
      expect(body.error.code).toBe('UPSTREAM_WECHAT');
      expect(body.error.errcode).toBe(40029);
      const log = lines.join('');
      expect(log).toContain('138****5678');
      expect(log).not.toContain('13812345678');
      expect(log).not.toContain(code);
    });

    it('checks the code against openid when given, and keeps a foreign country code', async () => {
      const code = sim().capabilities.issuePhoneCode(
        mp.appId,
        { purePhoneNumber: '2025550123', countryCode: '1' },
        'openid-a',
      );
      const res = await post(`/v1/apps/${mp.name}/phone-number`, { code, openid: 'openid-a' });
      expect(await res.json()).toEqual({
        phoneNumber: '+12025550123',
        purePhoneNumber: '2025550123',
        countryCode: '1',
      });
      expect(lines.join('')).not.toContain('2025550123');
    });

    it('replaces a token WeChat calls dead (40001) and retries once, as the proxy does', async () => {
      const token = (await (
        await hub.app.request(`/v1/apps/${mp.name}/token`, { headers: AUTH })
      ).json()) as { accessToken: string };
      expect(sim().killToken(token.accessToken)).toBe(true);
      const tokens = sim().calls('/cgi-bin/token', mp.appId);
      const calls = sim().calls('/wxa/business/getuserphonenumber', mp.appId);
      const code = sim().capabilities.issuePhoneCode(mp.appId, { purePhoneNumber: '13900000000' });
      const res = await post(`/v1/apps/${mp.name}/phone-number`, { code });
      expect(res.status).toBe(200);
      expect(sim().calls('/cgi-bin/token', mp.appId)).toBe(tokens + 1);
      expect(sim().calls('/wxa/business/getuserphonenumber', mp.appId)).toBe(calls + 2);
    });
  });

  describe('POST /v1/apps/{app}/subscribe-messages', () => {
    const message = (touser: string) => ({
      touser,
      template_id: 'tpl-order-shipped',
      page: 'pages/order?id=1',
      data: { thing1: { value: '已发货' } },
    });

    it('is 409 SUBSCRIPTION_REFUSED with errcode 43101 without a subscription, once each', async () => {
      const refused = await post(`/v1/apps/${mp.name}/subscribe-messages`, message('user-1'));
      expect(refused.status).toBe(409);
      const body = await envelope(refused);
      expect(body.error.code).toBe('SUBSCRIPTION_REFUSED');
      expect(body.error.errcode).toBe(43101);
      sim().capabilities.grantSubscription(mp.appId, 'user-1', 'tpl-order-shipped');
      const sent = await post(`/v1/apps/${mp.name}/subscribe-messages`, message('user-1'));
      expect(sent.status).toBe(200);
      const [recorded] = sim().capabilities.subscribeMessages(mp.appId).slice(-1);
      // Above 2^53: answered digit for digit.
      expect(await sent.json()).toEqual({ msgid: recorded?.msgid });
      expect(recorded?.body.data).toEqual({ thing1: { value: '已发货' } });
      const spent = await post(`/v1/apps/${mp.name}/subscribe-messages`, message('user-1'));
      expect(spent.status).toBe(409);
    });

    it('answers other WeChat errors as 502 with the errcode', async () => {
      sim().injectFault({ path: '/cgi-bin/message/subscribe/send', errcode: 40037 });
      const res = await post(`/v1/apps/${mp.name}/subscribe-messages`, message('user-2'));
      expect(res.status).toBe(502);
      expect((await envelope(res)).error.errcode).toBe(40037);
    });
  });

  describe('links', () => {
    it('answers a URL scheme, a URL link and a short link', async () => {
      const scheme = await post(`/v1/apps/${mp.name}/url-scheme`, {
        jump_wxa: { path: 'pages/index', query: 'a=1', env_version: 'release' },
        expire_type: 1,
        expire_interval: 30,
      });
      expect(scheme.status).toBe(200);
      expect(((await scheme.json()) as { openlink: string }).openlink).toMatch(
        /^weixin:\/\/dl\/business\/\?t=\w+$/,
      );
      const link = await post(`/v1/apps/${mp.name}/url-link`, { path: 'pages/index' });
      expect(((await link.json()) as { urlLink: string }).urlLink).toMatch(
        /^https:\/\/wxaurl\.cn\//,
      );
      const short = await post(`/v1/apps/${mp.name}/short-link`, { page_url: 'pages/a?b=1' });
      expect(((await short.json()) as { link: string }).link).toMatch(/^#小程序:\/\//);
    });

    it('refuses an expiry over 30 days itself, and passes WeChat refusals as 502', async () => {
      const long = await post(`/v1/apps/${mp.name}/url-link`, {
        expire_type: 1,
        expire_interval: 31,
      });
      expect(long.status).toBe(400);
      expect((await envelope(long)).error.message).toBe('expire_interval must be at most 30');
      const past = await post(`/v1/apps/${mp.name}/url-scheme`, { expire_time: 1 });
      expect(past.status).toBe(502);
      expect((await envelope(past)).error.errcode).toBe(40097);
    });
  });

  describe('POST /v1/apps/{app}/wxacode', () => {
    const code = (body: unknown) => post(`/v1/apps/${mp.name}/wxacode`, body);
    const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer());

    it('generates a limited code once: the same request again is the stored image', async () => {
      const calls = sim().calls('/wxa/getwxacode', mp.appId);
      const first = await code({ type: 'limited', path: 'pages/item?id=1' });
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('image/png');
      expect(first.headers.get('x-wxhub-wxacode')).toBe('generated');
      const used = Number(first.headers.get('x-wxhub-quota-used'));
      expect(used).toBeGreaterThanOrEqual(1);
      const image = await bytes(first);
      expect([...image.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      // WeChat's default width given explicitly is the same code.
      const again = await code({ type: 'limited', width: 430, path: 'pages/item?id=1' });
      expect(again.headers.get('x-wxhub-wxacode')).toBe('stored');
      expect(again.headers.get('x-wxhub-quota-used')).toBe(String(used));
      expect((await bytes(again)).equals(image)).toBe(true);
      expect(sim().calls('/wxa/getwxacode', mp.appId)).toBe(calls + 1);
    });

    it('keys stored codes by appid: another name for the same account gets the stored one', async () => {
      const alias = testApp({ kind: 'miniprogram', appId: mp.appId, appSecret: mp.appSecret });
      const h = await createTestHub(target, { apps: [alias], sim: hub.sim });
      try {
        const body = JSON.stringify({ type: 'limited', path: 'pages/alias' });
        const first = await code(JSON.parse(body));
        const calls = sim().calls('/wxa/getwxacode', mp.appId);
        const again = await h.app.request(`/v1/apps/${alias.name}/wxacode`, {
          method: 'POST',
          headers: JSON_AUTH,
          body,
        });
        expect(again.headers.get('x-wxhub-wxacode')).toBe('stored');
        expect((await bytes(again)).equals(await bytes(first))).toBe(true);
        expect(sim().calls('/wxa/getwxacode', mp.appId)).toBe(calls);
      } finally {
        await h.close();
      }
    });

    it('makes one upstream call for identical concurrent requests', async () => {
      const calls = sim().calls('/cgi-bin/wxaapp/createwxaqrcode', mp.appId);
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => code({ type: 'qrcode', path: 'pages/concurrent' })),
      );
      const images = await Promise.all(answers.map(bytes));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      for (const image of images) expect(image.equals(images[0] ?? Buffer.alloc(0))).toBe(true);
      expect(sim().calls('/cgi-bin/wxaapp/createwxaqrcode', mp.appId)).toBe(calls + 1);
      const sources = answers.map((r) => r.headers.get('x-wxhub-wxacode')).sort();
      expect(sources).toEqual(['generated', 'stored', 'stored', 'stored', 'stored', 'stored']);
    });

    it('makes one upstream call for a slow code requested on two instances at once', async () => {
      const other = await createTestHub(target, { apps: [mp], sim: hub.sim, instanceId: 'second' });
      try {
        sim().injectFault({ path: '/wxa/getwxacode', delayMs: 300 });
        const calls = sim().calls('/wxa/getwxacode', mp.appId);
        const request = (h: TestHub) =>
          h.app.request(`/v1/apps/${mp.name}/wxacode`, {
            method: 'POST',
            headers: JSON_AUTH,
            body: JSON.stringify({ type: 'limited', path: 'pages/two', env_version: 'trial' }),
          });
        const answers = await Promise.all([hub, other, hub, other].map(request));
        const images = await Promise.all(answers.map(bytes));
        expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
        for (const image of images) expect(image.equals(images[0] ?? Buffer.alloc(0))).toBe(true);
        expect(sim().calls('/wxa/getwxacode', mp.appId)).toBe(calls + 1);
      } finally {
        await other.close();
      }
    });

    it('generates an unlimited code on every request (no quota, nothing stored)', async () => {
      const calls = sim().calls('/wxa/getwxacodeunlimit', mp.appId);
      const one = await code({ type: 'unlimited', scene: 'a=1', page: 'pages/index' });
      const two = await code({ type: 'unlimited', scene: 'a=1', page: 'pages/index' });
      expect([one.status, two.status]).toEqual([200, 200]);
      expect(one.headers.get('content-type')).toBe('image/jpeg');
      expect(one.headers.get('x-wxhub-quota-used')).toBeNull();
      expect((await bytes(one)).length).toBeGreaterThan(0);
      expect(sim().calls('/wxa/getwxacodeunlimit', mp.appId)).toBe(calls + 2);
    });

    it('answers 45029 (quota spent) as 502 with errcode, and stores nothing', async () => {
      const app = testApp({ kind: 'miniprogram', tokenMode: 'classic' });
      const h = await createTestHub(target, { apps: [app], sim: hub.sim });
      try {
        const request = () =>
          h.app.request(`/v1/apps/${app.name}/wxacode`, {
            method: 'POST',
            headers: JSON_AUTH,
            body: JSON.stringify({ type: 'limited', path: 'pages/last' }),
          });
        sim().capabilities.setWxacodeQuotaUsed(app.appId, 100_000);
        const spent = await request();
        expect(spent.status).toBe(502);
        const body = await envelope(spent);
        expect(body.error.errcode).toBe(45029);
        expect(body.error.code).toBe('UPSTREAM_WECHAT');
        sim().capabilities.setWxacodeQuotaUsed(app.appId, 99_999);
        const ok = await request();
        expect(ok.status).toBe(200);
        expect(ok.headers.get('x-wxhub-wxacode')).toBe('generated');
        expect(ok.headers.get('x-wxhub-quota-used')).toBe('1');
        expect(sim().calls('/wxa/getwxacode', app.appId)).toBe(2);
      } finally {
        await h.close();
      }
    });

    it('refuses fields a limited code does not take (they would key the stored image)', async () => {
      const res = await code({ type: 'limited', path: 'pages/a', scene: 'x' });
      expect(res.status).toBe(400);
      expect((await envelope(res)).error.message).toContain('type limited takes path');
      const bad = await code({ type: 'unlimited', scene: '中文' });
      expect(bad.status).toBe(400);
      expect((await envelope(bad)).error.message).toContain('scene must be 1-32 characters');
    });
  });

  describe('bad input on every route', () => {
    const routes: [string, unknown][] = [
      ['phone-number', { code: 'abc' }],
      ['subscribe-messages', { touser: 'u', template_id: 't', data: {} }],
      ['url-scheme', {}],
      ['url-link', {}],
      ['short-link', { page_url: 'pages/a' }],
      ['wxacode', { type: 'limited', path: 'pages/a' }],
    ];

    it.each(routes)('%s: missing fields, wrong kind, unknown app, no key', async (route, good) => {
      const requestIdOf = (b: Envelope) => b.error.requestId;
      const expectEnvelope = async (res: Response, status: number, code: string) => {
        expect(res.status).toBe(status);
        const b = await envelope(res);
        expect(b.error.code).toBe(code);
        expect(typeof b.error.message).toBe('string');
        expect(requestIdOf(b)).toBe(res.headers.get('x-request-id'));
        return b;
      };
      const before = JSON.stringify(sim().counters());
      if (route !== 'url-scheme' && route !== 'url-link') {
        await expectEnvelope(await post(`/v1/apps/${mp.name}/${route}`, {}), 400, 'BAD_REQUEST');
      }
      const notJson = await hub.app.request(`/v1/apps/${mp.name}/${route}`, {
        method: 'POST',
        headers: JSON_AUTH,
        body: 'nope',
      });
      await expectEnvelope(notJson, 400, 'BAD_REQUEST');
      const kind = await expectEnvelope(
        await post(`/v1/apps/${oa.name}/${route}`, good),
        400,
        'BAD_REQUEST',
      );
      expect(kind.error.message).toContain('miniprogram');
      await expectEnvelope(await post(`/v1/apps/no-such-app/${route}`, good), 404, 'NOT_FOUND');
      const anonymous = await post(`/v1/apps/${mp.name}/${route}`, good, {
        'content-type': 'application/json',
      });
      await expectEnvelope(anonymous, 401, 'UNAUTHORIZED');
      // None of these reached WeChat.
      expect(JSON.stringify(sim().counters())).toBe(before);
    });
  });
});
