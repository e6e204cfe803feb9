import { AppError } from '../http/errors';
import type { Store } from '../store';

/**
 * A budget for refreshes a caller can trigger (a reported dead token): at most one per
 * `spacingMs` per app, and optionally `dailyLimit` a day, counted in a credentials row so that
 * every instance sees the same count.
 */
export interface RefreshGuard {
  /** Kind of the credentials row that counts an app's refreshes. */
  kind: string;
  /** What is held back, for the message (e.g. `force_refresh`). */
  what: string;
  /** Whose rule the spacing is, for the message. */
  rule: string;
  spacingMs: number;
  dailyLimit?: number;
}

/** WeChat's limits for a stable token's `force_refresh: true` (30 s spacing, 20 a day). */
export const STABLE_FORCE_GUARD: RefreshGuard = {
  kind: 'stable_force_refresh_budget',
  what: 'force_refresh',
  rule: 'WeChat allows one per 30 s',
  spacingMs: 30_000,
  dailyLimit: 20,
};

/**
 * Classic `cgi-bin/token` refreshes triggered by callers: each one kills the token before it, so
 * a burst of callers reporting 40001 must not fetch one each. The timer is not limited.
 */
export const CLASSIC_REFRESH_GUARD: RefreshGuard = {
  kind: 'classic_refresh_budget',
  what: 'token refresh',
  rule: 'the hub allows one refresh reported by callers per 30 s per app',
  spacingMs: 30_000,
  // WeChat allows 2,000 cgi-bin/token calls a day: callers may spend at most half, so a caller
  // looping on reports can never starve the timer's own refreshes.
  dailyLimit: 1_000,
};

/**
 * `api_component_token` refreshes triggered by callers (a proxied call answered 40001): each one
 * mints a new component token, so a burst of reports must not fetch one each.
 */
export const COMPONENT_REFRESH_GUARD: RefreshGuard = {
  kind: 'component_refresh_budget',
  what: 'component token refresh',
  rule: 'the hub allows one refresh reported by callers per 30 s per component',
  spacingMs: 30_000,
  dailyLimit: 1_000,
};

/**
 * `api_authorizer_token` refreshes triggered by callers (invalidate, a proxied 40001): each one
 * rotates the refresh token, so reports are spaced as for classic tokens, per authorizer.
 */
export const AUTHORIZER_REFRESH_GUARD: RefreshGuard = {
  kind: 'authorizer_refresh_budget',
  what: 'authorizer token refresh',
  rule: 'the hub allows one refresh reported by callers per 30 s per authorizer',
  spacingMs: 30_000,
  dailyLimit: 1_000,
};

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

async function readBudget(
  store: Store,
  guard: RefreshGuard,
  owner: string,
  now: number,
): Promise<Budget> {
  const row = await store.credentials.get({ owner, kind: guard.kind });
  const today = chinaDay(now);
  if (row?.value === undefined) return { day: today, count: 0, lastAt: 0 };
  const b = JSON.parse(row.value) as Budget;
  return b.day === today ? b : { day: today, count: 0, lastAt: b.lastAt };
}

/**
 * Throws RATE_LIMITED when a refresh now would break the guard's limits, with a message saying
 * which and when it frees up.
 */
export async function assertRefreshAllowed(
  store: Store,
  guard: RefreshGuard,
  owner: string,
  now: number,
): Promise<void> {
  const b = await readBudget(store, guard, owner, now);
  if (now - b.lastAt < guard.spacingMs) {
    const wait = Math.ceil((guard.spacingMs - (now - b.lastAt)) / 1000);
    throw new AppError(
      'RATE_LIMITED',
      `${guard.what} held back: the last one was under ${guard.spacingMs / 1000} s ago (${guard.rule}); retry in ${wait} s`,
    );
  }
  if (guard.dailyLimit !== undefined && b.count >= guard.dailyLimit) {
    throw new AppError(
      'RATE_LIMITED',
      `${guard.what} held back: the daily budget of ${guard.dailyLimit} is used up (resets at 00:00 China time)`,
    );
  }
}

/** Records one refresh. Called by the holder of the access token's lease. */
export async function spendRefresh(
  store: Store,
  guard: RefreshGuard,
  owner: string,
  now: number,
): Promise<void> {
  const b = await readBudget(store, guard, owner, now);
  const next: Budget = { day: b.day, count: b.count + 1, lastAt: now };
  await store.credentials.put(
    { owner, kind: guard.kind },
    { value: JSON.stringify(next), expiresAt: nextChinaMidnight(now) },
    now,
  );
}
