import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import { NO_EXPIRY } from '../component/authorizers';
import { AppError } from '../http/errors';
import type { Logger } from '../http/log';
import type { CredentialsRepo, Store } from '../store';
import type { TokenManager } from './manager';
import { describeRefreshError, nextAttemptDelayMs } from './policy';

/**
 * The refresh pass's path for per-tenant tokens of platforms with many tenants (a component's
 * authorizers, a WeCom suite's corps): per batch, one UPDATE takes the leases of the rows still
 * due, one query reads the sealed secrets they are fetched with (after the lease: no other
 * instance can rotate them meanwhile), the token they share (the component's or the suite's) is
 * had once, the upstream calls run with bounded concurrency, and one transaction stores every
 * result. The database cost per batch is a handful of statements and one commit, instead of
 * several commits per tenant.
 */

/** How many tenants one batch takes. */
export const TENANT_BATCH = 250;
/** How many batches are in flight at once (their calls share one limit). */
export const BATCHES_IN_FLIGHT = 2;
/**
 * How long a batch holds its leases: above its calls even when each times out (250 / 16 rounds of
 * 5 s), and below the 5 minutes a rotated-out authorizer refresh token keeps working, so a batch
 * whose process died before storing is taken again by a later pass with the old refresh token.
 */
const BATCH_LEASE_MS = 120_000;

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

/** What a batch needs of the hub. */
export interface BatchDeps {
  store: Store;
  clock: Clock;
  tokens: TokenManager;
  log: Logger;
  instanceId: string;
}

/** A token one upstream call answered; `rotated`: a new secret to keep in place of the old. */
export interface TenantToken {
  value: string;
  expiresIn: number;
  rotated?: string;
}

/** How one platform's tenant tokens are renewed in batches. */
export interface TenantBatchSpec<S> {
  /** Credential kind of the tokens renewed. */
  tokenKind: string;
  /** Credential kind of the sealed secret each token is fetched with (same owner). */
  secretKind: string;
  /** The credential owner of tenant `id`. */
  ownerOf(id: string): string;
  /** What every call of the batch shares (e.g. the component token): had once per batch. */
  shared(): Promise<S>;
  /** The local refusal for a tenant without its secret (no call, nothing backed off). */
  missing(id: string): AppError;
  /** One upstream call for tenant `id`. */
  fetch(id: string, secret: string, shared: S): Promise<TenantToken>;
  /** Log context: the app and what a tenant is. */
  app: string;
  tenant: string;
}

/** What one batch did. */
export interface TenantBatchResult {
  refreshed: number;
  /** Upstream or local failures per tenant (errors recorded on their rows). */
  failed: { id: string; error: string }[];
  /** Set when the shared token could not be had: nothing was called, leases were freed. */
  sharedError?: unknown;
}

type Outcome =
  | { id: string; owner: string; ok: TenantToken; at: number }
  | { id: string; owner: string; error: unknown; at: number };

const byOwner = (a: { owner: string }, b: { owner: string }) =>
  a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0;

/**
 * Stores one batch's outcomes in one transaction; each write checks the lease is still ours.
 * Rows are written in owner order, the order in which the lease UPDATE locks them.
 */
async function storeOutcomes<S>(
  repo: CredentialsRepo,
  spec: TenantBatchSpec<S>,
  leaseOwner: string,
  outcomes: Outcome[],
  failures: Map<string, number>,
): Promise<void> {
  for (const o of [...outcomes].sort(byOwner)) {
    const key = { owner: o.owner, kind: spec.tokenKind };
    if ('ok' in o) {
      const expiresAt = o.at + o.ok.expiresIn * 1000;
      const saved = await repo.saveValue(key, leaseOwner, { value: o.ok.value, expiresAt }, o.at);
      // Only while the lease is still ours: once it is lost, another instance's newer secret
      // is (or will be) the one to keep.
      if (saved && o.ok.rotated !== undefined) {
        const secretKey = { owner: o.owner, kind: spec.secretKind };
        await repo.put(secretKey, { value: o.ok.rotated, expiresAt: NO_EXPIRY }, o.at);
      }
    } else if (o.error instanceof AppError) {
      // A local refusal (no secret): nothing upstream failed, nothing to back off.
      await repo.releaseLease(key, leaseOwner);
    } else {
      const message = describeRefreshError(o.error);
      const nextAttemptAt = o.at + nextAttemptDelayMs(o.error, failures.get(o.owner) ?? 0);
      await repo.recordError(key, leaseOwner, { message, nextAttemptAt }, o.at);
    }
  }
}

/**
 * Refreshes the tokens of tenants `ids` that still expire within `aheadMs` and are not leased by
 * another instance; the upstream calls run through `limit` (shared by the batches in flight, so
 * their calls overlap the others' database work).
 */
export async function refreshTenantBatch<S>(
  deps: BatchDeps,
  spec: TenantBatchSpec<S>,
  ids: readonly string[],
  aheadMs: number,
  limit: Limiter,
): Promise<TenantBatchResult> {
  const creds = deps.store.credentials;
  const leaseOwner = `${deps.instanceId}:${randomBytes(6).toString('hex')}`;
  const idOf = new Map(ids.map((id) => [spec.ownerOf(id), id]));
  const now = deps.clock.now();
  // A deadlock victim (statement or transaction) is run again by the store (MySQL dialect).
  const claimed = await creds.claimDueLeases(
    spec.tokenKind,
    [...idOf.keys()],
    leaseOwner,
    now,
    BATCH_LEASE_MS,
    now + aheadMs,
  );
  const result: TenantBatchResult = { refreshed: 0, failed: [] };
  if (claimed.length === 0) return result;
  const taken = claimed.map((c) => c.owner);
  const release = () =>
    creds.transaction(async (repo) => {
      for (const owner of [...taken].sort()) {
        await repo.releaseLease({ owner, kind: spec.tokenKind }, leaseOwner);
      }
    });
  let shared: S;
  let secrets: Map<string, { value?: string }>;
  try {
    shared = await spec.shared();
    secrets = await creds.getManyOfKind(spec.secretKind, taken);
  } catch (err) {
    await release();
    return { ...result, sharedError: err };
  }
  const outcomes: Outcome[] = [];
  await Promise.all(
    taken.map((owner) =>
      limit(async () => {
        const id = idOf.get(owner) ?? '';
        try {
          const secret = secrets.get(owner)?.value;
          if (secret === undefined) throw spec.missing(id);
          const ok = await spec.fetch(id, secret, shared);
          outcomes.push({ id, owner, ok, at: deps.clock.now() });
        } catch (error) {
          outcomes.push({ id, owner, error, at: deps.clock.now() });
        }
      }),
    ),
  );
  const failures = new Map(claimed.map((c) => [c.owner, c.failures]));
  await creds.transaction((repo) => storeOutcomes(repo, spec, leaseOwner, outcomes, failures));
  for (const o of outcomes) {
    deps.tokens.forget({ owner: o.owner, kind: spec.tokenKind });
    if ('ok' in o) result.refreshed += 1;
    else result.failed.push({ id: o.id, error: describeRefreshError(o.error) });
  }
  if (result.failed.length > 0) {
    deps.log.warn(
      { app: spec.app, refreshed: result.refreshed, failed: result.failed.length },
      `${spec.tenant} token refresh failed for some ${spec.tenant}s`,
    );
  }
  return result;
}
