import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedStore, openTestStore, testTargets, uniqueName } from '../store/testing';
import { assertRefreshAllowed, CLASSIC_REFRESH_GUARD, chinaDay, spendRefresh } from './force-guard';

describe.each(testTargets())('caller-triggered classic refreshes on $name', (target) => {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await openTestStore(target);
  });
  afterAll(() => opened.store.close());

  it('are spaced 30 s apart and capped at 1,000 a China day, half of WeChat’s 2,000', async () => {
    const store = opened.store;
    const owner = `app:${uniqueName('guard')}`;
    const now = Date.UTC(2026, 10, 30, 4, 0, 0);
    await assertRefreshAllowed(store, CLASSIC_REFRESH_GUARD, owner, now);
    await spendRefresh(store, CLASSIC_REFRESH_GUARD, owner, now);
    await expect(
      assertRefreshAllowed(store, CLASSIC_REFRESH_GUARD, owner, now + 29_000),
    ).rejects.toThrow('under 30 s ago');
    await assertRefreshAllowed(store, CLASSIC_REFRESH_GUARD, owner, now + 30_000);
    // 999 more spent today: the next one is held back however long ago the last was.
    await store.credentials.put(
      { owner, kind: CLASSIC_REFRESH_GUARD.kind },
      {
        value: JSON.stringify({ day: chinaDay(now), count: 1_000, lastAt: now }),
        expiresAt: now + 86_400_000,
      },
      now,
    );
    await expect(
      assertRefreshAllowed(store, CLASSIC_REFRESH_GUARD, owner, now + 3_600_000),
    ).rejects.toThrow('daily budget of 1000');
    // A new China day starts a new budget.
    await assertRefreshAllowed(store, CLASSIC_REFRESH_GUARD, owner, now + 86_400_000);
  });
});
