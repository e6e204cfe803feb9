import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock';
import { AppError } from '../http/errors';
import type { Logger } from '../http/log';
import { dbSpan, type Telemetry } from '../metrics/telemetry';
import type { CredentialKey, CredentialRecord, Store } from '../store';
import type { IssuedCredential } from '../wechat/credentials';
import { transportErrorCode, WechatTransportError } from '../wechat/http';
import {
  describeRefreshError,
  isConfigError,
  isConfigErrorMessage,
  nextAttemptDelayMs,
} from './policy';

/** A credential handed to a caller. */
export interface ServedCredential {
  value: string;
  /** Epoch ms from WeChat's `expires_in`. */
  expiresAt: number;
  version: number;
}

export interface TokenOptions {
  /** How long a refresher holds the lease; a crashed refresher's lease frees itself after this. */
  leaseMs: number;
  /** Longest life of a per-instance cache entry (well under WeChat's five-minute overlap). */
  cacheTtlMs: number;
  /** A stored value with less life left than this is not served; it is refreshed first. */
  serveMarginMs: number;
  /** Longest time a caller waits for another instance's refresh before a 503. */
  waitMs: number;
  pollMs: number;
  /**
   * After WeChat could not be reached (or timed out) for a credential, this instance makes no
   * further upstream attempt for it for this long: callers get the 503/504 at once.
   */
  transportBackoffMs: number;
}

export const DEFAULT_TOKEN_OPTIONS: TokenOptions = {
  leaseMs: 10_000,
  cacheTtlMs: 60_000,
  serveMarginMs: 30_000,
  waitMs: 12_000,
  pollMs: 50,
  transportBackoffMs: 5_000,
};

export interface TokenManagerDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  instanceId: string;
  options?: Partial<TokenOptions>;
  /** With traces on, each database step of a refresh gets a span (`db credentials.saveValue`). */
  telemetry?: Telemetry;
  /** Called after a new value was stored (e.g. to drop tickets of a replaced access token). */
  onSaved?: (k: CredentialKey) => Promise<void>;
}

/** Fetches a fresh value from WeChat; `current` is the stored value being replaced, if any. */
export type Fetcher = (current: CredentialRecord | undefined) => Promise<IssuedCredential>;

/**
 * The counter of refresh outcomes, per hour and in all: label `<kind>:ok` or `<kind>:error`
 * (rows from before kinds were counted have `ok` / `error`).
 */
export const REFRESH_COUNTER = 'refresh';

type CacheEntry = ServedCredential & { until: number };

/**
 * The credential manager: serves every credential from a short per-instance cache or its row,
 * and refreshes under the database lease so that, across any number of instances, one upstream
 * call is made per credential lifetime.
 *
 * @example
 * const token = await tokens.get({ owner: 'app:oa', kind: 'access_token' }, fetchFromWechat);
 */
export function createTokenManager(deps: TokenManagerDeps) {
  const opts = { ...DEFAULT_TOKEN_OPTIONS, ...deps.options };
  const { store, clock, log } = deps;
  const cache = new Map<string, CacheEntry>();
  const inflight = new Map<string, Promise<ServedCredential>>();
  const id = (k: CredentialKey) => `${k.owner}/${k.kind}`;
  /** Credentials whose last upstream attempt on this instance failed in transport, until when. */
  const heldBack = new Map<string, { until: number; error: AppError }>();

  /** The error to answer at once while `k` is held back after a transport failure. */
  function heldBackError(k: CredentialKey): AppError | undefined {
    const held = heldBack.get(id(k));
    if (held === undefined) return undefined;
    if (held.until > clock.now()) return held.error;
    heldBack.delete(id(k));
    return undefined;
  }

  function holdBack(k: CredentialKey, err: WechatTransportError): void {
    const seconds = Math.ceil(opts.transportBackoffMs / 1000);
    heldBack.set(id(k), {
      until: clock.now() + opts.transportBackoffMs,
      error: new AppError(
        transportErrorCode(err),
        `${err.message}; this instance retries WeChat for this credential every ${seconds} s`,
      ),
    });
  }

  /**
   * Counts a refresh outcome in the durable per-hour `refresh` counter (label `ok` or `error`;
   * the dashboard reads it). A counter that cannot be written never fails the refresh.
   */
  async function count(k: CredentialKey, outcome: 'ok' | 'error'): Promise<void> {
    // Tried twice: concurrent first upserts of an hour's row can deadlock on MySQL's unique key.
    for (let attempt = 1; ; attempt++) {
      try {
        await store.counters.increment(REFRESH_COUNTER, `${k.kind}:${outcome}`, clock.now(), {
          total: true,
        });
        return;
      } catch (err) {
        if (attempt < 2) continue;
        log.warn({ error: describeRefreshError(err) }, 'refresh not counted');
        return;
      }
    }
  }

  const servable = (r: CredentialRecord | undefined, margin: number) =>
    r?.value !== undefined && r.expiresAt !== undefined && r.expiresAt - clock.now() > margin;

  function remember(k: CredentialKey, r: ServedCredential): ServedCredential {
    const until = Math.min(clock.now() + opts.cacheTtlMs, r.expiresAt - opts.serveMarginMs);
    cache.set(id(k), { ...r, until });
    return r;
  }

  const served = (r: CredentialRecord): ServedCredential => ({
    value: r.value ?? '',
    expiresAt: r.expiresAt ?? 0,
    version: r.version,
  });

  /** Runs the fetch as lease holder; the row is re-read first (someone may just have refreshed). */
  async function refreshAsOwner(
    k: CredentialKey,
    leaseOwner: string,
    fetcher: Fetcher,
    isFresh: (r: CredentialRecord | undefined) => boolean,
  ): Promise<ServedCredential> {
    const row = await dbSpan(deps.telemetry, 'credentials.get', () => store.credentials.get(k));
    if (row !== undefined && isFresh(row)) {
      await store.credentials.releaseLease(k, leaseOwner);
      return served(row);
    }
    if (row?.unreadable !== undefined) {
      // A fresh value from WeChat replaces it, sealed under the current key (README).
      log.warn(
        { credential: id(k), code: row.unreadable.code, keyId: row.unreadable.keyId },
        'stored value does not open; fetching a new one',
      );
    }
    try {
      const issued = await fetcher(row);
      const now = clock.now();
      const expiresAt = now + issued.expiresIn * 1000;
      const saved = await dbSpan(deps.telemetry, 'credentials.saveValue', () =>
        store.credentials.saveValue(k, leaseOwner, { value: issued.value, expiresAt }, now),
      );
      if (!saved) log.warn({ credential: id(k) }, 'lease lost before saving; value kept anyway');
      await count(k, 'ok');
      await deps.onSaved?.(k);
      log.info(
        { credential: id(k), expiresAt: new Date(expiresAt).toISOString() },
        'credential refreshed',
      );
      return { value: issued.value, expiresAt, version: (row?.version ?? 0) + 1 };
    } catch (err) {
      if (err instanceof AppError) {
        // A local refusal (guard, missing secret): nothing upstream failed, nothing to back off.
        await store.credentials.releaseLease(k, leaseOwner);
        throw err;
      }
      if (err instanceof WechatTransportError) holdBack(k, err);
      const now = clock.now();
      const message = describeRefreshError(err);
      const delay = nextAttemptDelayMs(err, row?.failures ?? 0);
      await dbSpan(deps.telemetry, 'credentials.recordError', () =>
        store.credentials.recordError(k, leaseOwner, { message, nextAttemptAt: now + delay }, now),
      );
      await count(k, 'error');
      log.warn(
        { credential: id(k), error: message, config: isConfigError(err) },
        'credential refresh failed',
      );
      throw err;
    }
  }

  /**
   * Refreshes `k` unless `isFresh` holds for the stored row. Losers of the lease serve a value
   * that is still valid, or poll for the winner's new version (taking over if its lease
   * expires), up to `waitMs`.
   */
  async function refresh(
    k: CredentialKey,
    fetcher: Fetcher,
    isFresh: (r: CredentialRecord | undefined) => boolean,
    serveCurrent = true,
    exists = false,
  ): Promise<ServedCredential> {
    const held = heldBackError(k);
    if (held !== undefined) throw held;
    if (!exists) await store.credentials.ensure(k, clock.now());
    const started = performance.now();
    for (;;) {
      const leaseOwner = `${deps.instanceId}:${randomBytes(6).toString('hex')}`;
      const claimed = await dbSpan(deps.telemetry, 'credentials.claimLease', () =>
        store.credentials.claimLease(k, leaseOwner, clock.now(), opts.leaseMs),
      );
      if (claimed) {
        return refreshAsOwner(k, leaseOwner, fetcher, isFresh);
      }
      const row = await store.credentials.get(k);
      if (row !== undefined && isFresh(row)) return served(row);
      if (serveCurrent && row !== undefined && servable(row, 0) && !isFresh(row)) {
        // Another instance is refreshing; the current value still works meanwhile.
        return served(row);
      }
      if (performance.now() - started > opts.waitMs) {
        throw new AppError(
          'UNAVAILABLE',
          'credential is being refreshed by another instance; retry shortly',
        );
      }
      await sleep(opts.pollMs);
    }
  }

  function cached(k: CredentialKey): ServedCredential | undefined {
    const hit = cache.get(id(k));
    return hit !== undefined && hit.until > clock.now() ? hit : undefined;
  }

  return {
    options: opts,
    /**
     * What {@link get} would answer from this instance's cache, without I/O; `undefined` when it
     * would have to read the store. The same object is returned while the entry lives.
     */
    cached,
    /** Serves `k`, refreshing it first when no valid value is stored. */
    async get(k: CredentialKey, fetcher: Fetcher): Promise<ServedCredential> {
      const hit = cached(k);
      if (hit !== undefined) return hit;
      const row = await store.credentials.get(k);
      if (row !== undefined && servable(row, opts.serveMarginMs)) return remember(k, served(row));
      if (
        row?.lastError !== undefined &&
        (row.nextAttemptAt ?? 0) > clock.now() &&
        isConfigErrorMessage(row.lastError)
      ) {
        // A configuration error is not retried per request: WeChat would answer the same.
        throw new AppError('UPSTREAM_WECHAT', `last refresh failed: ${row.lastError}`);
      }
      const held = heldBackError(k);
      if (held !== undefined) {
        // WeChat was just unreachable: a value that still works beats an error.
        if (row !== undefined && servable(row, 0)) return served(row);
        throw held;
      }
      const running = inflight.get(id(k));
      if (running !== undefined) return running;
      const p = refresh(k, fetcher, (r) => servable(r, opts.serveMarginMs))
        .then((r) => remember(k, r))
        .catch((err: unknown) => {
          // WeChat unreachable or slow: a value that still works beats an error.
          if (err instanceof WechatTransportError && row !== undefined && servable(row, 0)) {
            return served(row);
          }
          throw err;
        })
        .finally(() => inflight.delete(id(k)));
      inflight.set(id(k), p);
      return p;
    },
    /**
     * Refreshes `k` now if it expires before `aheadMs` from now (the timer's path). Returns
     * whether an upstream call was made by this instance. `opts.exists`: the row is known to
     * exist (the pass selected it), so it is not ensured first. The new value replaces a cached
     * entry but adds none: a pass over many credentials must not fill this instance's cache.
     */
    async refreshAhead(
      k: CredentialKey,
      fetcher: Fetcher,
      aheadMs: number,
      opts: { exists?: boolean } = {},
    ): Promise<boolean> {
      let called = false;
      const counted: Fetcher = (cur) => {
        called = true;
        return fetcher(cur);
      };
      const fresh = (r: CredentialRecord | undefined) =>
        r?.value !== undefined && r.expiresAt !== undefined && r.expiresAt - clock.now() > aheadMs;
      const r = await refresh(k, counted, fresh, true, opts.exists === true);
      const wasCached = cache.delete(id(k));
      if (called && wasCached) remember(k, r);
      return called;
    },
    /**
     * Compare-and-refresh: refreshes `k` only if `presented` is still its stored value (a caller
     * saw it fail with 40001/42001/40014). Concurrent reports of the same value cause one refresh;
     * a report of an already-replaced value just answers the current one.
     */
    async invalidate(
      k: CredentialKey,
      presented: string,
      fetcher: Fetcher,
    ): Promise<ServedCredential> {
      cache.delete(id(k));
      const replaced = (r: CredentialRecord | undefined) =>
        r?.value !== presented && servable(r, opts.serveMarginMs);
      const row = await store.credentials.get(k);
      if (row !== undefined && replaced(row)) return remember(k, served(row));
      const key = `${id(k)}#invalidate`;
      const running = inflight.get(key);
      if (running !== undefined) return running;
      // The reported value is dead: never serve it back while another instance refreshes.
      const p = refresh(k, fetcher, replaced, false)
        .then((r) => remember(k, r))
        .finally(() => inflight.delete(key));
      inflight.set(key, p);
      return p;
    },
    /** Drops this instance's cached entries (tests, invalidation). */
    forget(k?: CredentialKey): void {
      if (k === undefined) cache.clear();
      else cache.delete(id(k));
    },
  };
}
export type TokenManager = ReturnType<typeof createTokenManager>;
