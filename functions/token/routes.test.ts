import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTargets } from '../../shared/store/testing';
import { jssdkSignature } from '../../shared/wechat/jssdk';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };

describe.each(testTargets())('token function routes on $name', (target) => {
  const oa = testApp({ tokenMode: 'classic' });
  const mp = testApp({ kind: 'miniprogram', tokenMode: 'stable' });
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [oa, mp] });
  });
  afterAll(() => hub.close());
  const sim = () => hub.sim.sim;
  const post = (path: string, body: unknown) =>
    hub.app.request(path, { method: 'POST', headers: JSON_AUTH, body: JSON.stringify(body) });
  const tokenOf = async (name: string) =>
    (
      (await (await hub.app.request(`/v1/apps/${name}/token`, { headers: AUTH })).json()) as {
        accessToken: string;
      }
    ).accessToken;

  describe('invalidate', () => {
    it('only refreshes when the reported token is still the current one', async () => {
      const current = await tokenOf(oa.name);
      const calls = sim().calls('/cgi-bin/token', oa.appId);
      const stale = await post(`/v1/apps/${oa.name}/token/invalidate`, {
        accessToken: 'not-the-current-one',
      });
      expect(stale.status).toBe(200);
      expect(((await stale.json()) as { accessToken: string }).accessToken).toBe(current);
      expect(sim().calls('/cgi-bin/token', oa.appId)).toBe(calls);
      const res = await post(`/v1/apps/${oa.name}/token/invalidate`, { accessToken: current });
      const body = (await res.json()) as { appId: string; accessToken: string; expiresAt: string };
      expect(body.appId).toBe(oa.appId);
      expect(body.accessToken).not.toBe(current);
      expect(sim().calls('/cgi-bin/token', oa.appId)).toBe(calls + 1);
    });

    it('uses force_refresh for stable tokens, 30 s apart, then answers the current token with an error field', async () => {
      const first = await tokenOf(mp.name);
      const forced = (await (
        await post(`/v1/apps/${mp.name}/token/invalidate`, { accessToken: first })
      ).json()) as {
        accessToken: string;
      };
      expect(forced.accessToken).not.toBe(first);
      expect(sim().isTokenValid(first)).toBe(false);
      const calls = sim().calls('/cgi-bin/stable_token', mp.appId);
      sim().clock.advance(10_000);
      const held = await post(`/v1/apps/${mp.name}/token/invalidate`, {
        accessToken: forced.accessToken,
      });
      expect(held.status).toBe(200);
      const body = (await held.json()) as {
        accessToken: string;
        error: { code: string; message: string };
      };
      expect(body.accessToken).toBe(forced.accessToken);
      expect(body.error.code).toBe('RATE_LIMITED');
      expect(body.error.message).toMatch(/30 s.*retry in 20 s/);
      expect(sim().calls('/cgi-bin/stable_token', mp.appId)).toBe(calls);
      sim().clock.advance(20_000);
      const again = (await (
        await post(`/v1/apps/${mp.name}/token/invalidate`, { accessToken: forced.accessToken })
      ).json()) as {
        accessToken: string;
        error?: unknown;
      };
      expect(again.error).toBeUndefined();
      expect(again.accessToken).not.toBe(forced.accessToken);
    });

    it('holds back the 21st force refresh of the day', async () => {
      const app = testApp({ tokenMode: 'stable' });
      const h = await createTestHub(target, { apps: [app], sim: hub.sim });
      try {
        let current = (
          (await (await h.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH })).json()) as {
            accessToken: string;
          }
        ).accessToken;
        const invalidate = async () =>
          (await (
            await h.app.request(`/v1/apps/${app.name}/token/invalidate`, {
              method: 'POST',
              headers: JSON_AUTH,
              body: JSON.stringify({ accessToken: current }),
            })
          ).json()) as {
            accessToken: string;
            error?: { message: string };
          };
        // Start just after midnight China time so 20 forces 31 s apart stay within one day.
        const now = sim().clock.now();
        const dayStart =
          Date.parse(`${new Date(now + 8 * 3_600_000).toISOString().slice(0, 10)}T00:00:00Z`) -
          8 * 3_600_000;
        sim().clock.set(dayStart + 86_400_000 + 1_000);
        for (let i = 0; i < 20; i++) {
          const r = await invalidate();
          expect(r.error).toBeUndefined();
          current = r.accessToken;
          sim().clock.advance(31_000);
        }
        const held = await invalidate();
        expect(held.error?.message).toContain('daily budget of 20');
        expect(held.accessToken).toBe(current);
      } finally {
        await h.close();
      }
    });

    it('rejects a body without accessToken', async () => {
      expect((await post(`/v1/apps/${oa.name}/token/invalidate`, {})).status).toBe(400);
      expect(
        (
          await hub.app.request(`/v1/apps/${oa.name}/token/invalidate`, {
            method: 'POST',
            headers: JSON_AUTH,
            body: 'nope',
          })
        ).status,
      ).toBe(400);
    });
  });

  describe('jssdk-config', () => {
    it('signs the page URL without its fragment with the current jsapi ticket', async () => {
      const url = 'https://shop.example.com/page?id=1&q=中文#/detail';
      const res = await hub.app.request(
        `/v1/apps/${oa.name}/jssdk-config?url=${encodeURIComponent(url)}`,
        { headers: AUTH },
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        appId: string;
        timestamp: number;
        nonceStr: string;
        signature: string;
      };
      expect(body.appId).toBe(oa.appId);
      expect(body.timestamp).toBe(Math.floor(sim().clock.now() / 1000));
      const ticket = (
        (await (
          await hub.app.request(`/v1/apps/${oa.name}/ticket?type=jsapi`, { headers: AUTH })
        ).json()) as { ticket: string }
      ).ticket;
      expect(body.signature).toBe(
        jssdkSignature({
          ticket,
          nonceStr: body.nonceStr,
          timestamp: body.timestamp,
          url: 'https://shop.example.com/page?id=1&q=中文',
        }),
      );
    });

    it('answers 400 for a missing or non-http(s) url', async () => {
      for (const q of [
        '',
        '?url=',
        '?url=ftp%3A%2F%2Fx',
        '?url=javascript%3Aalert(1)',
        '?url=%2Frelative',
      ]) {
        const res = await hub.app.request(`/v1/apps/${oa.name}/jssdk-config${q}`, {
          headers: AUTH,
        });
        expect(res.status).toBe(400);
      }
    });
  });

  describe('code2session', () => {
    it('exchanges a login code for a mini program', async () => {
      const code = sim().issueLoginCode(mp.appId, 'openid-123', 'unionid-9');
      const res = await post(`/v1/apps/${mp.name}/code2session`, { code });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { openid: string; unionid: string; sessionKey: string };
      expect(body).toMatchObject({ openid: 'openid-123', unionid: 'unionid-9' });
      expect(body.sessionKey.length).toBeGreaterThan(8);
      const reused = await post(`/v1/apps/${mp.name}/code2session`, { code });
      expect(reused.status).toBe(502);
      expect(((await reused.json()) as { error: { errcode: number } }).error.errcode).toBe(40163);
    });

    it('answers 400 for an official account or a missing code', async () => {
      const official = await post(`/v1/apps/${oa.name}/code2session`, { code: 'abc' });
      expect(official.status).toBe(400);
      expect(((await official.json()) as { error: { message: string } }).error.message).toContain(
        'miniprogram',
      );
      expect((await post(`/v1/apps/${mp.name}/code2session`, {})).status).toBe(400);
    });
  });

  it('drops tickets when their access token is replaced', async () => {
    const first = (
      (await (
        await hub.app.request(`/v1/apps/${oa.name}/ticket?type=jsapi`, { headers: AUTH })
      ).json()) as { ticket: string }
    ).ticket;
    const calls = sim().calls('/cgi-bin/ticket/getticket', oa.appId);
    await post(`/v1/apps/${oa.name}/token/invalidate`, { accessToken: await tokenOf(oa.name) });
    const row = await hub.deps.store.credentials.get({
      owner: `app:${oa.name}`,
      kind: 'jsapi_ticket',
    });
    expect(row?.value).toBeUndefined();
    await hub.app.request(`/v1/apps/${oa.name}/ticket?type=jsapi`, { headers: AUTH });
    expect(sim().calls('/cgi-bin/ticket/getticket', oa.appId)).toBe(calls + 1);
    expect(first.length).toBeGreaterThan(0);
  });
});
