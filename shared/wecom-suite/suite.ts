import type { Clock } from '../clock';
import { AppError, WechatApiError } from '../http/errors';
import type { AppRecord, Store } from '../store';
import { assertReadable } from '../store/unreadable';
import {
  appOwner,
  currentPushedTicket,
  guardedInvalidate,
  keepPushedTicket,
} from '../tokens/app-tokens';
import type { RefreshGuard } from '../tokens/force-guard';
import type { Fetcher, ServedCredential, TokenManager } from '../tokens/manager';
import type { IssuedCredential } from '../wechat/credentials';
import { callWechatJson, type WechatHttp, WechatTransportError } from '../wechat/http';

/**
 * WeCom third-party suites (`kind: wecom-suite`): the `suite_ticket` WeCom pushes to the command
 * URL every 10 minutes, valid 30 minutes (https://developer.work.weixin.qq.com/document/path/90628),
 * and the `suite_access_token` fetched with the newest one
 * (https://developer.work.weixin.qq.com/document/path/97162). The app's `appId` is the suite id,
 * its `appSecret` the suite secret.
 */

/** Credential kind of the stored ticket (owner `app:<name>`). */
export const SUITE_TICKET_KIND = 'suite_ticket';
/** Credential kind of the suite token (owner `app:<name>`). */
export const SUITE_TOKEN_KIND = 'suite_access_token';
/** WeCom accepts a ticket for 30 minutes after it was pushed. */
export const SUITE_TICKET_TTL_MS = 30 * 60_000;
/** The refresh pass renews the suite token this long before it expires. */
export const SUITE_TOKEN_AHEAD_MS = 600_000;
export const SUITE_TOKEN_PATH = '/cgi-bin/service/get_suite_token';

/** WeCom's errcodes for a suite token that is not (or no longer) valid: 40082 invalid, 42009 expired. */
export const STALE_SUITE_TOKEN_ERRCODES: ReadonlySet<number> = new Set([40082, 42009]);

/** Suite-token refreshes reported by a failing call: each mints a token, so they are spaced. */
export const SUITE_REFRESH_GUARD: RefreshGuard = {
  kind: 'suite_refresh_budget',
  what: 'suite token refresh',
  rule: 'the hub allows one refresh reported by callers per 30 s per suite',
  spacingMs: 30_000,
  dailyLimit: 1_000,
};

/** What suite handling needs. */
export interface SuiteDeps {
  store: Store;
  clock: Clock;
  tokens: TokenManager;
  /** WeCom's server API (`WECOM_API_BASE`), called like WeChat's: errcode ≠ 0 is a 502. */
  wecom: WechatHttp;
}

/** 400 unless the app is a WeCom suite; 409 when its secret is missing. Returns the secret. */
export function requireSuite(app: AppRecord): string {
  if (app.kind !== 'wecom-suite') {
    throw new AppError(
      'BAD_REQUEST',
      `app "${app.name}" is a ${app.kind} app; /v1/suites/{app}/… is for wecom-suite apps`,
    );
  }
  assertReadable(app, 'apps.app_secret');
  if (app.appSecret === undefined) {
    throw new AppError('CONFLICT', `app "${app.name}" has no suiteSecret configured`);
  }
  return app.appSecret;
}

/**
 * Keeps a pushed ticket when it is newer than the stored one (a conditional write on its
 * `TimeStamp`: a late, older push never replaces a newer ticket). Returns whether it was written.
 */
export async function keepSuiteTicket(
  store: Store,
  app: AppRecord,
  fields: Record<string, unknown>,
  now: number,
): Promise<boolean> {
  const ticket = fields.SuiteTicket;
  const ts = Number(fields.TimeStamp);
  if (typeof ticket !== 'string' || ticket === '' || !Number.isSafeInteger(ts)) {
    throw new AppError('BAD_REQUEST', 'suite_ticket push without SuiteTicket or TimeStamp');
  }
  const key = { owner: appOwner(app), kind: SUITE_TICKET_KIND };
  return keepPushedTicket(store, key, ticket, ts, SUITE_TICKET_TTL_MS, now);
}

/** The stored ticket when it is still valid at `now`. */
export async function currentSuiteTicket(
  store: Store,
  app: AppRecord,
  now: number,
): Promise<string | undefined> {
  return currentPushedTicket(store, { owner: appOwner(app), kind: SUITE_TICKET_KIND }, now);
}

/** 409 NO_TICKET: WeCom pushed no ticket in the last 30 minutes. */
export function noSuiteTicket(app: AppRecord): AppError {
  return new AppError(
    'NO_TICKET',
    `suite "${app.name}" has no suite_ticket from the last 30 minutes; WeCom pushes one to /wx/${app.name}/suite/command every 10 minutes`,
  );
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/** A token answer of WeCom (`{access_token|suite_access_token, expires_in}`, errcode only on failure). */
export function issuedOf(api: string, token: unknown, expiresIn: unknown): IssuedCredential {
  const value = text(token);
  if (value === undefined || typeof expiresIn !== 'number' || expiresIn <= 0) {
    throw new WechatTransportError(api, 'answered without a token');
  }
  return { value, expiresIn };
}

/** Fetches a suite token with the newest stored ticket; 409 NO_TICKET without one. */
export function suiteTokenFetcher(deps: SuiteDeps, app: AppRecord): Fetcher {
  return async () => {
    const secret = requireSuite(app);
    const ticket = await currentSuiteTicket(deps.store, app, deps.clock.now());
    if (ticket === undefined) throw noSuiteTicket(app);
    const r = await callWechatJson<{ suite_access_token?: unknown; expires_in?: unknown }>(
      deps.wecom,
      SUITE_TOKEN_PATH,
      {},
      {
        method: 'POST',
        json: { suite_id: app.appId, suite_secret: secret, suite_ticket: ticket },
      },
    );
    return issuedOf(SUITE_TOKEN_PATH, r.suite_access_token, r.expires_in);
  };
}

/** The suite token through the credential manager (lease, cache: one call per lifetime). */
export function suiteAccessToken(deps: SuiteDeps, app: AppRecord): Promise<ServedCredential> {
  requireSuite(app);
  return deps.tokens.get(
    { owner: appOwner(app), kind: SUITE_TOKEN_KIND },
    suiteTokenFetcher(deps, app),
  );
}

/**
 * Runs `call` with the suite token (`first` when the caller had it already, e.g. once for a
 * batch of corps); when WeCom says it is not valid (40082, 42009) it is refreshed by
 * compare-and-refresh (spaced by {@link SUITE_REFRESH_GUARD}) and `call` runs once more.
 */
export async function withSuiteToken<T>(
  deps: SuiteDeps,
  app: AppRecord,
  call: (suiteToken: string) => Promise<T>,
  first?: string,
): Promise<T> {
  const token = first ?? (await suiteAccessToken(deps, app)).value;
  try {
    return await call(token);
  } catch (err) {
    if (!(err instanceof WechatApiError) || !STALE_SUITE_TOKEN_ERRCODES.has(err.errcode)) throw err;
    const key = { owner: appOwner(app), kind: SUITE_TOKEN_KIND };
    const fetcher = suiteTokenFetcher(deps, app);
    const fresh = await guardedInvalidate(deps, key, token, {
      guard: SUITE_REFRESH_GUARD,
      refetch: () => fetcher(undefined),
      current: fetcher,
    });
    if (fresh.token.value === token) throw err;
    return call(fresh.token.value);
  }
}
