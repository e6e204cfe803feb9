import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wxacodeBytes } from '../../dev/simulator';
import { testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

describe.each(testTargets())('proxy function on $name', (target) => {
  const oa = testApp({ tokenMode: 'classic' });
  const mp = testApp({ kind: 'miniprogram', tokenMode: 'stable' });
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, {
      apps: [oa, mp],
      env: {
        WXHUB_BODY_LIMIT_BYTES: '2048',
        WXHUB_PROXY_BODY_LIMIT_BYTES: '2048',
        WXHUB_PROXY_TIMEOUT_MS: '300',
      },
    });
  });
  afterAll(() => hub.close());
  const sim = () => hub.sim.sim;

  it('injects the token, replacing a caller-supplied one, and answers WeChat as it is', async () => {
    const res = await hub.app.request(
      `/v1/proxy/${oa.name}/cgi-bin/getcallbackip?access_token=forged`,
      { headers: AUTH },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(((await res.json()) as { ip_list: string[] }).ip_list.length).toBeGreaterThan(0);
    expect(sim().calls('/cgi-bin/getcallbackip', oa.appId)).toBe(1);
  });

  it('recovers a 40001 transparently with one invalidate and one retry', async () => {
    await hub.app.request(`/v1/apps/${oa.name}/token`, { headers: AUTH });
    const tokenCalls = sim().calls('/cgi-bin/token', oa.appId);
    sim().injectFault({ path: '/cgi-bin/getcallbackip', errcode: 40001 });
    const res = await hub.app.request(`/v1/proxy/${oa.name}/cgi-bin/getcallbackip`, {
      headers: AUTH,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty('ip_list');
    expect(sim().calls('/cgi-bin/token', oa.appId)).toBe(tokenCalls + 1);
  });

  it('answers a second failure as WeChat sent it', async () => {
    // Past the 30 s that keep a caller-reported refresh from following the one above.
    sim().clock.advance(30_000);
    sim().injectFault({ path: '/cgi-bin/getcallbackip', errcode: 42001, times: 2 });
    const res = await hub.app.request(`/v1/proxy/${oa.name}/cgi-bin/getcallbackip`, {
      headers: AUTH,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { errcode: number }).errcode).toBe(42001);
  });

  it('passes method, JSON body and content type through, and returns image bytes intact', async () => {
    const body = JSON.stringify({ scene: 'a=1&b=2', width: 430 });
    const res = await hub.app.request(`/v1/proxy/${mp.name}/wxa/getwxacodeunlimit`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.equals(Buffer.from(wxacodeBytes('a=1&b=2', undefined, 430)))).toBe(true);
    const bad = await hub.app.request(`/v1/proxy/${mp.name}/wxa/getwxacodeunlimit`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ scene: 'x'.repeat(40) }),
    });
    expect(bad.headers.get('content-type')).toContain('application/json');
    expect(((await bad.json()) as { errcode: number }).errcode).toBe(40169);
  });

  it('answers 504 when WeChat is too slow, a 5xx as sent, 413 for an oversized body', async () => {
    sim().injectFault({ path: '/cgi-bin/getcallbackip', delayMs: 1000 });
    const slow = await hub.app.request(`/v1/proxy/${oa.name}/cgi-bin/getcallbackip`, {
      headers: AUTH,
    });
    expect(slow.status).toBe(504);
    expect(((await slow.json()) as { error: { code: string } }).error.code).toBe(
      'UPSTREAM_TIMEOUT',
    );
    sim().injectFault({ path: '/cgi-bin/getcallbackip', status: 503 });
    const down = await hub.app.request(`/v1/proxy/${oa.name}/cgi-bin/getcallbackip`, {
      headers: AUTH,
    });
    expect(down.status).toBe(503);
    const big = await hub.app.request(`/v1/proxy/${oa.name}/cgi-bin/message/custom/send`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: 'x'.repeat(4096),
    });
    expect(big.status).toBe(413);
  });

  it('rejects path traversal, unknown apps and missing keys', async () => {
    const status = async (path: string) => (await hub.app.request(path, { headers: AUTH })).status;
    // A plain '..' segment is collapsed by the URL parser before routing: it never reaches the
    // proxy route (404). One hidden behind an encoded slash reaches it and is refused.
    expect(await status(`/v1/proxy/${oa.name}/cgi-bin/%2E%2E/%2E%2E/x`)).toBe(404);
    expect(await status(`/v1/proxy/${oa.name}/cgi-bin/%2e%2e%2F%2e%2e%2Fx`)).toBe(400);
    expect(await status(`/v1/proxy/${oa.name}/%2Fevil.example%2Fx`)).toBe(400);
    expect(await status('/v1/proxy/nope/cgi-bin/getcallbackip')).toBe(404);
    expect((await hub.app.request(`/v1/proxy/${oa.name}/cgi-bin/getcallbackip`)).status).toBe(401);
    expect(sim().calls('/cgi-bin/x')).toBe(0);
  });
});
