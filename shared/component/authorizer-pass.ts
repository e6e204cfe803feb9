import { randomBytes } from 'node:crypto';
import { AppError } from '../http/errors';
import type { Logger } from '../http/log';
import type { AppRecord, CredentialsRepo } from '../store';
import type { TokenManager } from '../tokens/manager';
import { describeRefreshError, nextAttemptDelayMs } from '../tokens/policy';
import {
  AUTHORIZER_REFRESH_KIND,
  AUTHORIZER_TOKEN_KIND,
  type AuthorizerTokenAnswer,
  authorizerOwner,
  NO_EXPIRY,
  noRefreshToken,
  recoverAuthorizerToken,
  requestAuthorizerToken,
} from './authorizers';
import { type ComponentDeps, componentAccessToken } from './component';

/**
 * The refresh pass's path for authorizer tokens, built for components with many authorizers:
 * per batch, one UPDATE takes the leases of the rows still due, one query reads their refresh
 * tokens (after the lease: no other instance can rotate them meanwhile), the upstream calls run
 * with bounded concurrency, and one transaction stores every result. The database cost per batch
 * is a handful of statements and one commit, instead of several commits per authorizer.
 */

/** How many authorizers one batch takes. */
export const AUTHORIZER_BATCH = 250;
/** How many batches are in flight at once (their calls share one limit). */
export const BATCHES_IN_FLIGHT = 2;
/**
 * How long a batch holds its leases: above its calls even when each times out (250 / 16 rounds of
 * 5 s), and below the 5 minutes a rotated-out refresh token keeps working, so a batch whose
 * process died before storing is taken again by a later pass with the old refresh token.
 */
const BATCH_LEASE_MS = 120_000;

export interface AuthorizerPassDeps extends ComponentDeps {
  tokens: TokenManager;
  log: Logger;
  instanceId: string;
}

/** What one batch did. */
export interface AuthorizerBatchResult {
  refreshed: number;
  /** Upstream or local failures per authorizer (errors recorded on their rows). */
  failed: { authorizerAppId: string; error: string }[];
  /** Set when the component token could not be had: nothing was called, leases were freed. */
  componentError?: unknown;
}

type Outcome =
  | { appId: string; ok: AuthorizerTokenAnswer; at: number }
  | { appId: string; error: unknown; at: number };

/** Runs at most `limit` tasks at once, across every caller sharing it (e.g. several batches). */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(limit: number): Limiter {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A finishing task hands its slot straight to the next waiter, so `limit` is never passed.
    if (running < limit) running += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  };
}

/**
 * Stores one batch's outcomes in one transaction; each write checks the lease is still ours.
 * Rows are written in owner order, the order in which the lease UPDATE locks them.
 */
async function storeOutcomes(
  repo: CredentialsRepo,
  app: AppRecord,
  leaseOwner: string,
  outcomes: Outcome[],
  failures: Map<string, number>,
): Promise<void> {
  const sorted = outcomes
    .map((o) => ({ o, owner: authorizerOwner(app, o.appId) }))
    .sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0));
  for (const { o, owner } of sorted) {
    const key = { owner, kind: AUTHORIZER_TOKEN_KIND };
    if ('ok' in o) {
      const expiresAt = o.at + o.ok.expiresIn * 1000;
      const saved = await repo.saveValue(key, leaseOwner, { value: o.ok.value, expiresAt }, o.at);
      // Only while the lease is still ours: once it is lost, another instance's newer refresh
      // token is (or will be) the one to keep.
      if (saved && o.ok.rotated !== undefined) {
        const refreshKey = { owner, kind: AUTHORIZER_REFRESH_KIND };
        await repo.put(refreshKey, { value: o.ok.rotated, expiresAt: NO_EXPIRY }, o.at);
      }
    } else if (o.error instanceof AppError) {
      // A local refusal (no refresh token): nothing upstream failed, nothing to back off.
      await repo.releaseLease(key, leaseOwner);
    } else {
      const message = describeRefreshError(o.error);
      const nextAttemptAt = o.at + nextAttemptDelayMs(o.error, failures.get(owner) ?? 0);
      await repo.recordError(key, leaseOwner, { message, nextAttemptAt }, o.at);
    }
  }
}

/**
 * Refreshes the tokens of `authorizerAppIds` (authorizers of component `app`) that still expire
 * within `aheadMs` and are not leased by another instance; its upstream calls run through
 * `limit` (shared by the batches in flight, so their calls overlap the others' database work).
 */
export async function refreshAuthorizerBatch(
  deps: AuthorizerPassDeps,
  app: AppRecord,
  authorizerAppIds: readonly string[],
  aheadMs: number,
  limit: Limiter,
): Promise<AuthorizerBatchResult> {
  const creds = deps.store.credentials;
  const leaseOwner = `${deps.instanceId}:${randomBytes(6).toString('hex')}`;
  const byOwner = new Map(authorizerAppIds.map((id) => [authorizerOwner(app, id), id]));
  const now = deps.clock.now();
  // A deadlock victim (statement or transaction) is run again by the store (MySQL dialect).
  const claimed = await creds.claimDueLeases(
    AUTHORIZER_TOKEN_KIND,
    [...byOwner.keys()],
    leaseOwner,
    now,
    BATCH_LEASE_MS,
    now + aheadMs,
  );
  const result: AuthorizerBatchResult = { refreshed: 0, failed: [] };
  if (claimed.length === 0) return result;
  const taken = claimed.map((c) => c.owner);
  const release = () =>
    creds.transaction(async (repo) => {
      for (const owner of [...taken].sort()) {
        await repo.releaseLease({ owner, kind: AUTHORIZER_TOKEN_KIND }, leaseOwner);
      }
    });
  let componentToken: string;
  let refreshes: Map<string, { value?: string }>;
  try {
    componentToken = (await componentAccessToken(deps, app)).value;
    refreshes = await creds.getManyOfKind(AUTHORIZER_REFRESH_KIND, taken);
  } catch (err) {
    await release();
    return { ...result, componentError: err };
  }
  const outcomes: Outcome[] = [];
  await Promise.all(
    taken.map((owner) =>
      limit(async () => {
        const appId = byOwner.get(owner) ?? '';
        try {
          const refresh = refreshes.get(owner)?.value;
          if (refresh === undefined) throw noRefreshToken(app, appId);
          // 61023 and 61003 are recovered or confirmed as on the token route.
          const ok = await requestAuthorizerToken(deps, app, appId, refresh, componentToken).catch(
            (err: unknown) =>
              recoverAuthorizerToken(deps, app, appId, refresh, componentToken, err),
          );
          outcomes.push({ appId, ok, at: deps.clock.now() });
        } catch (error) {
          outcomes.push({ appId, error, at: deps.clock.now() });
        }
      }),
    ),
  );
  const failures = new Map(claimed.map((c) => [c.owner, c.failures]));
  await creds.transaction((repo) => storeOutcomes(repo, app, leaseOwner, outcomes, failures));
  for (const o of outcomes) {
    deps.tokens.forget({ owner: authorizerOwner(app, o.appId), kind: AUTHORIZER_TOKEN_KIND });
    if ('ok' in o) result.refreshed += 1;
    else result.failed.push({ authorizerAppId: o.appId, error: describeRefreshError(o.error) });
  }
  if (result.failed.length > 0) {
    deps.log.warn(
      { app: app.name, refreshed: result.refreshed, failed: result.failed.length },
      'authorizer token refresh failed for some authorizers',
    );
  }
  return result;
}
