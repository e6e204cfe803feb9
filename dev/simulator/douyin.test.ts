import { describe, expect, it } from 'vitest';
import { createSimulator } from './app';
import { createSimClock } from './clock';
import { DOUYIN_OVERLAP_MS, DouyinSim } from './douyin';

describe('Douyin simulator', () => {
  it('a new token leaves the previous one 5 minutes and kills every older one', () => {
    const clock = createSimClock(1_700_000_000_000);
    const sim = new DouyinSim(clock);
    const a = sim.issueToken('tt1').token;
    clock.advance(60_000);
    const b = sim.issueToken('tt1').token;
    expect(sim.isTokenValid(a)).toBe(true);
    const c = sim.issueToken('tt1').token;
    // Only the newest two are valid.
    expect(sim.isTokenValid(a)).toBe(false);
    expect([sim.isTokenValid(b), sim.isTokenValid(c)]).toEqual([true, true]);
    clock.advance(DOUYIN_OVERLAP_MS);
    expect([sim.isTokenValid(b), sim.isTokenValid(c)]).toEqual([false, true]);
    // Another app's tokens are untouched.
    const other = sim.issueToken('tt2').token;
    sim.issueToken('tt1');
    expect(sim.isTokenValid(other)).toBe(true);
  });

  it('answers errors inside the envelope with HTTP 200 and counts calls per app', async () => {
    const sim = createSimulator({ apps: [{ appId: 'tt0123456789', secret: 's3cret' }] });
    const call = (body: unknown) =>
      sim.app.request('/douyin/api/apps/v2/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const bad = await call({
      appid: 'tt0123456789',
      secret: 'nope',
      grant_type: 'client_credential',
    });
    expect(bad.status).toBe(200);
    expect(await bad.json()).toEqual({
      err_no: 40017,
      err_tips: 'bad secret',
      data: { access_token: '', expires_in: 0 },
    });
    const good = await call({
      appid: 'tt0123456789',
      secret: 's3cret',
      grant_type: 'client_credential',
    });
    const body = (await good.json()) as { err_no: number; data: { access_token: string } };
    expect(body.err_no).toBe(0);
    expect(sim.douyin.isTokenValid(body.data.access_token)).toBe(true);
    expect(sim.calls('/douyin/api/apps/v2/token', 'tt0123456789')).toBe(2);
  });
});
