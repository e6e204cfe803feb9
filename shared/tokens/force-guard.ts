import { AppError } from '../http/errors';
import type { Store } from '../store';

/** Kind of the row that counts an app's stable-token force refreshes. */
export const FORCE_GUARD_KIND = 'stable_force_refresh_budget';
/** WeChat's limits for `force_refresh: true` (wechat.md §1.2). */
export const FORCE_SPACING_MS = 30_000;
export const FORCE_DAILY_LIMIT = 20;

interface Budget {
  day: string;
  count: number;
  lastAt: number;
}

const CHINA_OFFSET_MS = 8 * 3_600_000;

/** The calendar day in China (UTC+8), WeChat's quota day. */
export function chinaDay(ms: number): string {
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

function nextChinaMidnight(ms: number): number {
  const day = Date.parse(`${chinaDay(ms)}T00:00:00Z`) - CHINA_OFFSET_MS;
  return day + 86_400_000;
}

async function readBudget(store: Store, owner: string, now: number): Promise<Budget> {
  const row = await store.credentials.get({ owner, kind: FORCE_GUARD_KIND });
  const today = chinaDay(now);
  if (row?.value === undefined) return { day: today, count: 0, lastAt: 0 };
  const b = JSON.parse(row.value) as Budget;
  return b.day === today ? b : { day: today, count: 0, lastAt: b.lastAt };
}

/**
 * Throws RATE_LIMITED when a force refresh now would break WeChat's limits (30 s spacing, 20 a
 * day per app), with a message saying which and when it frees up.
 */
export async function assertForceAllowed(store: Store, owner: string, now: number): Promise<void> {
  const b = await readBudget(store, owner, now);
  if (now - b.lastAt < FORCE_SPACING_MS) {
    const wait = Math.ceil((FORCE_SPACING_MS - (now - b.lastAt)) / 1000);
    throw new AppError(
      'RATE_LIMITED',
      `force_refresh held back: the last one was under 30 s ago (WeChat allows one per 30 s); retry in ${wait} s`,
    );
  }
  if (b.count >= FORCE_DAILY_LIMIT) {
    throw new AppError(
      'RATE_LIMITED',
      `force_refresh held back: the daily budget of ${FORCE_DAILY_LIMIT} is used up (resets at 00:00 China time)`,
    );
  }
}

/** Records one force refresh. Called by the holder of the access token's lease. */
export async function spendForce(store: Store, owner: string, now: number): Promise<void> {
  const b = await readBudget(store, owner, now);
  const next: Budget = { day: b.day, count: b.count + 1, lastAt: now };
  await store.credentials.put(
    { owner, kind: FORCE_GUARD_KIND },
    { value: JSON.stringify(next), expiresAt: nextChinaMidnight(now) },
    now,
  );
}
