import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../config';
import type { TestTarget } from './testing';
import { testTargets, uniqueName, useTestStore } from './testing';

const NOW = 1_800_000_000_000;
const hash = () => uniqueName('h').padEnd(64, '0').slice(0, 64);

describe.each(testTargets())('OAuth store contract on $name', (target: TestTarget) => {
  const { store } = useTestStore(target);

  it("keeps an official app's oauthRedirects and oauthComponent, and drops them when removed", async () => {
    const name = uniqueName('oa');
    const app: AppConfig = {
      name,
      kind: 'official',
      appId: 'wx0123456789abcdef',
      tokenMode: 'stable',
      forward: [],
      oauthRedirects: ['https://shop.example.com/oauth/', 'http://localhost:5173/cb'],
      oauthComponent: 'platform',
    };
    await store().apps.upsert(app, 'file', NOW);
    expect(await store().apps.get(name)).toMatchObject({
      oauthRedirects: ['https://shop.example.com/oauth/', 'http://localhost:5173/cb'],
      oauthComponent: 'platform',
    });
    const { oauthRedirects: _r, oauthComponent: _c, ...plain } = app;
    await store().apps.upsert(plain, 'file', NOW + 1);
    const got = await store().apps.get(name);
    expect(got?.oauthRedirects).toBeUndefined();
    expect(got?.oauthComponent).toBeUndefined();
  });

  it('takes a state once, for its own app only, before it expires', async () => {
    const state = { app: 'oa', scope: 'snsapi_base', redirect: 'https://x.example/cb?a=1' };
    const h = hash();
    await store().oauth.putState(h, { ...state, expiresAt: NOW + 600_000 }, NOW);
    expect(await store().oauth.takeState(h, 'other', NOW + 1)).toEqual({ outcome: 'unknown' });
    expect(await store().oauth.takeState(hash(), 'oa', NOW + 1)).toEqual({ outcome: 'unknown' });
    expect(await store().oauth.takeState(h, 'oa', NOW + 1)).toEqual({
      outcome: 'taken',
      record: { ...state, expiresAt: NOW + 600_000 },
    });
    expect(await store().oauth.takeState(h, 'oa', NOW + 2)).toEqual({ outcome: 'used' });

    const late = hash();
    await store().oauth.putState(late, { ...state, expiresAt: NOW + 600_000 }, NOW);
    expect(await store().oauth.takeState(late, 'oa', NOW + 600_000)).toEqual({
      outcome: 'expired',
    });
  });

  it('takes a ticket once: of two concurrent takes exactly one wins', async () => {
    const ticket = {
      app: 'oa',
      openid: 'o-1',
      unionid: 'u-1',
      scope: 'snsapi_userinfo',
      user: { nickname: '微信用户 👋', headimgurl: 'https://thirdwx.qlogo.cn/x/132' },
      snapshotUser: false,
      expiresAt: NOW + 300_000,
    };
    const h = hash();
    await store().oauth.putTicket(h, ticket, NOW);
    const both = await Promise.all([
      store().oauth.takeTicket(h, NOW + 1),
      store().oauth.takeTicket(h, NOW + 1),
    ]);
    expect(both.filter((r) => r.outcome === 'taken')).toEqual([
      { outcome: 'taken', record: ticket },
    ]);
    expect(both.filter((r) => r.outcome === 'used')).toHaveLength(1);

    const bare = hash();
    await store().oauth.putTicket(
      bare,
      { ...ticket, unionid: undefined, user: undefined, snapshotUser: true },
      NOW,
    );
    expect(await store().oauth.takeTicket(bare, NOW + 300_000)).toEqual({ outcome: 'expired' });
    expect(await store().oauth.takeTicket(hash(), NOW)).toEqual({ outcome: 'unknown' });
  });

  it('purges expired states and tickets only', async () => {
    const old = hash();
    const fresh = hash();
    const state = { app: 'purge', scope: 'snsapi_base', redirect: 'https://x.example/' };
    await store().oauth.putState(old, { ...state, expiresAt: NOW - 1 }, NOW - 10);
    await store().oauth.putState(fresh, { ...state, expiresAt: NOW + 1000 }, NOW);
    expect(await store().oauth.purgeExpired(NOW, 1000)).toBeGreaterThanOrEqual(1);
    expect(await store().oauth.takeState(old, 'purge', NOW - 5)).toEqual({ outcome: 'unknown' });
    expect((await store().oauth.takeState(fresh, 'purge', NOW)).outcome).toBe('taken');
  });
});
