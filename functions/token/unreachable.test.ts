import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

/** A local port nothing listens on: listen, note the port, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

type ErrorBody = { error: { code: string; message: string } };

describe.each(testTargets())('WeChat unreachable or slow, on $name', (target) => {
  describe('connection refused', () => {
    const oa = testApp({ tokenMode: 'classic' });
    const mp = testApp({ kind: 'miniprogram', tokenMode: 'stable' });
    let hub: TestHub;
    let attempts = 0;
    beforeAll(async () => {
      const port = await closedPort();
      const counting: typeof fetch = (input, init) => {
        attempts += 1;
        return fetch(input, init);
      };
      hub = await createTestHub(target, {
        apps: [oa, mp],
        env: { WECHAT_API_BASE: `http://127.0.0.1:${port}` },
        fetch: counting,
      });
    });
    afterAll(() => hub.close());
    const get = (path: string) => hub.app.request(path, { headers: AUTH });

    it('answers 503 UNAVAILABLE on the token, ticket and jssdk-config routes, never 500', async () => {
      for (const path of [
        `/v1/apps/${oa.name}/token`,
        `/v1/apps/${oa.name}/ticket?type=jsapi`,
        `/v1/apps/${oa.name}/jssdk-config?url=${encodeURIComponent('https://example.com/')}`,
      ]) {
        const res = await get(path);
        expect(res.status, path).toBe(503);
        const body = (await res.json()) as ErrorBody;
        expect(body.error.code).toBe('UNAVAILABLE');
        expect(body.error.message).toContain('/cgi-bin/token');
        expect(body.error.message).not.toContain(oa.appSecret ?? '-');
      }
    });

    it('answers 503 UNAVAILABLE on code2session', async () => {
      const res = await hub.app.request(`/v1/apps/${mp.name}/code2session`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ code: 'abc' }),
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as ErrorBody).error.code).toBe('UNAVAILABLE');
    });

    it('makes one upstream attempt per credential per backoff window', async () => {
      hub.sim.sim.clock.advance(60_000);
      const before = attempts;
      const path = `/v1/apps/${oa.name}/token`;
      const concurrent = await Promise.all(Array.from({ length: 20 }, () => get(path)));
      expect(concurrent.map((r) => r.status)).toEqual(Array(20).fill(503));
      for (let i = 0; i < 20; i++) expect((await get(path)).status).toBe(503);
      expect(attempts - before).toBe(1);
      // The window ends: one more attempt, then held back again.
      hub.sim.sim.clock.advance(hub.deps.tokens.options.transportBackoffMs + 1);
      for (let i = 0; i < 5; i++) expect((await get(path)).status).toBe(503);
      expect(attempts - before).toBe(2);
    });
  });

  describe('WeChat unreachable while a stored token is still valid', () => {
    const oa = testApp({ tokenMode: 'classic' });
    let hub: TestHub;
    let down = false;
    let attempts = 0;
    beforeAll(async () => {
      const closed = `http://127.0.0.1:${await closedPort()}`;
      // Real HTTP either way: to the simulator, or (while `down`) to a closed port.
      const switching: typeof fetch = (input, init) => {
        attempts += 1;
        const url = String(input);
        return fetch(down ? url.replace(hub.sim.url, closed) : url, init);
      };
      hub = await createTestHub(target, { apps: [oa], fetch: switching });
    });
    afterAll(() => hub.close());

    it('serves the stored token, still valid, instead of the 503, attempting once per window', async () => {
      const path = `/v1/apps/${oa.name}/token`;
      const first = (await (await hub.app.request(path, { headers: AUTH })).json()) as {
        accessToken: string;
      };
      // 20 s of life left: under the serve margin, so the hub tries to refresh it.
      hub.sim.sim.clock.advance(7_200_000 - 20_000);
      hub.deps.tokens.forget();
      down = true;
      const before = attempts;
      for (let i = 0; i < 5; i++) {
        const res = await hub.app.request(path, { headers: AUTH });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { accessToken: string }).accessToken).toBe(first.accessToken);
      }
      expect(attempts - before).toBe(1);
    });
  });

  describe('WeChat too slow', () => {
    const oa = testApp({ tokenMode: 'classic' });
    let hub: TestHub;
    beforeAll(async () => {
      hub = await createTestHub(target, { apps: [oa], wechatTimeoutMs: 200 });
    });
    afterAll(() => hub.close());
    const sim = () => hub.sim.sim;

    it('answers 504 UPSTREAM_TIMEOUT, holds back, then recovers after the window', async () => {
      sim().injectFault({ path: '/cgi-bin/token', delayMs: 1_000 });
      const path = `/v1/apps/${oa.name}/token`;
      const res = await hub.app.request(path, { headers: AUTH });
      expect(res.status).toBe(504);
      expect(((await res.json()) as ErrorBody).error.code).toBe('UPSTREAM_TIMEOUT');
      const calls = sim().calls('/cgi-bin/token', oa.appId);
      const again = await hub.app.request(path, { headers: AUTH });
      expect(again.status).toBe(504);
      expect(sim().calls('/cgi-bin/token', oa.appId)).toBe(calls);
      sim().clock.advance(hub.deps.tokens.options.transportBackoffMs + 1);
      const ok = await hub.app.request(path, { headers: AUTH });
      expect(ok.status).toBe(200);
    });
  });
});
