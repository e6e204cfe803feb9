import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wxacodeBytes } from './qrcode';
import type { RunningSimulator } from './server';
import { startSimulator } from './server';
import { APP, newSim, type WxBody } from './test-helpers';

describe('startSimulator over real HTTP', () => {
  let running: RunningSimulator;

  beforeAll(async () => {
    running = await startSimulator({ port: 0, sim: newSim() });
  });
  afterAll(async () => {
    await running.close();
  });

  it('serves tokens, token-checked APIs, binary images and control routes', async () => {
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
    expect(running.port).toBeGreaterThan(0);
    const q = `grant_type=client_credential&appid=${APP.appId}&secret=${APP.secret}`;
    const token = ((await (await fetch(`${running.url}/cgi-bin/token?${q}`)).json()) as WxBody)
      .access_token;
    expect(token).toBeDefined();
    const ips = (await (
      await fetch(`${running.url}/cgi-bin/getcallbackip?access_token=${token}`)
    ).json()) as WxBody;
    expect(ips.ip_list?.length).toBeGreaterThan(0);
    const img = await fetch(`${running.url}/wxa/getwxacodeunlimit?access_token=${token}`, {
      method: 'POST',
      body: JSON.stringify({ scene: 'a=1' }),
    });
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await img.arrayBuffer());
    expect(bytes.equals(Buffer.from(wxacodeBytes('a=1')))).toBe(true);
    const check = await fetch(`${running.url}/__sim/tokens/check?access_token=${token}`);
    expect(await check.json()).toEqual({ valid: true });
    await fetch(`${running.url}/__sim/clock`, { method: 'POST', body: '{"advanceMs":7200000}' });
    expect(running.sim.isTokenValid(token ?? '')).toBe(false);
    expect(running.sim.calls('/cgi-bin/token', APP.appId)).toBe(1);
  });

  it('starts a fresh simulator by default and closes cleanly', async () => {
    const other = await startSimulator();
    const res = await fetch(`${other.url}/__sim/counters`);
    expect(await res.json()).toEqual({ byPath: {}, byApp: {} });
    await other.close();
    await expect(fetch(`${other.url}/__sim/counters`)).rejects.toThrow();
  });
});
