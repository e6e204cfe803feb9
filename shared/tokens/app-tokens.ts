import type { Clock } from '../clock';
import { AppError } from '../http/errors';
import type { AppRecord, CredentialKey, Store } from '../store';
import { assertReadable } from '../store/unreadable';
import type { IssuedCredential } from '../wechat/credentials';
import { getAccessToken, getStableAccessToken, getTicket } from '../wechat/credentials';
import type { WechatHttp } from '../wechat/http';
import {
  assertRefreshAllowed,
  CLASSIC_REFRESH_GUARD,
  type RefreshGuard,
  STABLE_FORCE_GUARD,
  spendRefresh,
} from './force-guard';
import type { Fetcher, ServedCredential, TokenManager } from './manager';

/** Kinds of app that fetch an access token with appId + appSecret. */
export const TOKEN_KINDS = new Set<AppRecord['kind']>(['official', 'miniprogram', 'douyin']);

/** Kinds of app with jsapi / wx_card tickets. */
const TICKET_KINDS = new Set<AppRecord['kind']>(['official', 'miniprogram']);

/** The upstream APIs app tokens come from: WeChat's, and Douyin's for `douyin` apps. */
export interface TokenApis {
  wechat: WechatHttp;
  douyin: WechatHttp;
}

/** Kinds whose access token is served at `GET /v1/apps/{app}/token`: WeChat's and WeCom's. */
export const SERVED_TOKEN_KINDS = new Set<AppRecord['kind']>([...TOKEN_KINDS, 'wecom']);

/**
 * WeCom's code (`kind: wecom`), loaded on the first WeCom request: the WeChat paths never load
 * it at a cold start (the SCF build ships it as a file of its own, LAZY_FILES).
 */
export const loadWecom = () => import('../wecom/tokens');

/** The owner column of an app's credentials. */
export const appOwner = (app: Pick<AppRecord, 'name'>) => `app:${app.name}`;

/**
 * Keeps a ticket a platform pushes (WeChat's `component_verify_ticket`, WeCom's `suite_ticket`)
 * under `key` when it is newer than the stored one: a conditional write on `sentAt` (seconds, the
 * push's own time), so a late, older push never replaces a newer ticket. It is valid for `ttlMs`
 * from then. Returns whether it was written.
 */
export function keepPushedTicket(
  store: Store,
  key: CredentialKey,
  ticket: string,
  sentAt: number,
  ttlMs: number,
  now: number,
): Promise<boolean> {
  return store.credentials.putIfNewer(
    key,
    { value: ticket, expiresAt: sentAt * 1000 + ttlMs },
    now,
  );
}

/** The pushed ticket stored under `key` when it is still valid at `now`. */
export async function currentPushedTicket(
  store: Store,
  key: CredentialKey,
  now: number,
): Promise<string | undefined> {
  const row = await store.credentials.get(key);
  if (row?.value === undefined || row.expiresAt === undefined || row.expiresAt <= now) {
    return undefined;
  }
  return row.value;
}

/** How far ahead of expiry the timer refreshes an app's access token (see README). */
export function accessTokenAheadMs(app: AppRecord, overrideSeconds: number | undefined): number {
  // Douyin: a new token cuts the previous one's life to 5 minutes (and only the newest two stay
  // valid). Refreshed inside its last 4 minutes, the replaced token loses nothing: instances
  // still serving it from their cache (at most cacheTtlMs) keep a token that works until its
  // own expiry.
  if (app.kind === 'douyin') return Math.min((overrideSeconds ?? 240) * 1000, 240_000);
  // A stable token only changes in its last five minutes: refreshing earlier would be a wasted
  // call answering the same token, so stable mode stays inside that window.
  if (app.tokenMode === 'stable') return Math.min((overrideSeconds ?? 240) * 1000, 240_000);
  return (overrideSeconds ?? 600) * 1000;
}

/** Fetches a new access token the app's way (stable or classic; Douyin's v2 token). */
export function accessTokenFetcher(apis: TokenApis, app: AppRecord): Fetcher {
  return async (): Promise<IssuedCredential> => {
    assertReadable(app, 'apps.app_secret');
    if (app.appSecret === undefined) {
      throw new AppError('CONFLICT', `app "${app.name}" has no appSecret configured`);
    }
    if (app.kind === 'douyin') {
      // Loaded on the first Douyin token only (LAZY_FILES): WeChat paths never load it.
      const douyin = await import('../douyin');
      return douyin.getDouyinAccessToken(apis.douyin, app.appId, app.appSecret);
    }
    return app.tokenMode === 'classic'
      ? getAccessToken(apis.wechat, app.appId, app.appSecret)
      : getStableAccessToken(apis.wechat, app.appId, app.appSecret, false);
  };
}

/** Throws a 400 for app kinds without appId+appSecret tokens, a 409 when the secret is missing. */
function requireTokenApp(app: AppRecord, what: 'access tokens' | 'tickets'): void {
  const kinds = what === 'tickets' ? TICKET_KINDS : TOKEN_KINDS;
  if (!kinds.has(app.kind)) {
    throw new AppError(
      'BAD_REQUEST',
      `app "${app.name}" is a ${app.kind} app; ${what} here are for ${[...kinds].join(', ')} apps`,
    );
  }
  // An appSecret that does not open is a 503 naming its cause, not "no appSecret configured".
  assertReadable(app, 'apps.app_secret');
  if (app.appSecret === undefined) {
    throw new AppError('CONFLICT', `app "${app.name}" has no appSecret configured`);
  }
}

/** Serves an app's access token through the credential manager. */
export async function appAccessToken(
  tokens: TokenManager,
  apis: TokenApis,
  app: AppRecord,
): Promise<ServedCredential> {
  requireTokenApp(app, 'access tokens');
  return tokens.get({ owner: appOwner(app), kind: 'access_token' }, accessTokenFetcher(apis, app));
}

/**
 * The access token {@link appAccessToken} would serve from this instance's cache, without I/O;
 * `undefined` when it has to go the long way (including every error case).
 */
export function cachedAccessToken(
  tokens: TokenManager,
  app: AppRecord,
): ServedCredential | undefined {
  if (!SERVED_TOKEN_KINDS.has(app.kind) || app.appSecret === undefined) return undefined;
  return tokens.cached({ owner: appOwner(app), kind: 'access_token' });
}

/** What serving or invalidating an app's token of any kind needs. */
export interface AppTokenDeps {
  tokens: TokenManager;
  wechat: WechatHttp;
  douyin: WechatHttp;
  wecom: WechatHttp;
  store: Store;
  clock: Clock;
}

/**
 * The access token of any app that has one (`GET /v1/apps/{app}/token`, the proxy): WeChat's
 * for official accounts and mini programs, Douyin's v2 token for douyin apps, WeCom's `gettoken`
 * for wecom apps; a 400 for others.
 */
export async function servedAccessToken(
  deps: AppTokenDeps,
  app: AppRecord,
): Promise<ServedCredential> {
  if (app.kind === 'wecom') return (await loadWecom()).wecomAccessToken(deps, app);
  return appAccessToken(deps.tokens, deps, app);
}

/** {@link invalidateAccessToken} for any app that has a token (see {@link servedAccessToken}). */
export async function invalidateServedToken(
  deps: AppTokenDeps,
  app: AppRecord,
  presented: string,
): Promise<InvalidateResult> {
  if (app.kind === 'wecom') return (await loadWecom()).invalidateWecomToken(deps, app, presented);
  return invalidateAccessToken(deps, app, presented);
}

export const TICKET_TYPES = ['jsapi', 'wx_card'] as const;
export type TicketType = (typeof TICKET_TYPES)[number];

/** Credential kind of a ticket type (`jsapi` → `jsapi_ticket`). */
export const ticketKind = (type: TicketType) => `${type}_ticket`;

/** Tickets are refreshed this long before expiry by the timer. */
export const TICKET_AHEAD_MS = 600_000;

/** Fetches a new ticket with the app's current access token. */
export function ticketFetcher(
  tokens: TokenManager,
  apis: TokenApis,
  app: AppRecord,
  type: TicketType,
): Fetcher {
  return async () => {
    const token = await appAccessToken(tokens, apis, app);
    return getTicket(apis.wechat, token.value, type);
  };
}

/** Serves an app's `jsapi` or `wx_card` ticket through the credential manager. */
export async function appTicket(
  tokens: TokenManager,
  apis: TokenApis,
  app: AppRecord,
  type: TicketType,
): Promise<ServedCredential> {
  requireTokenApp(app, 'tickets');
  return tokens.get(
    { owner: appOwner(app), kind: ticketKind(type) },
    ticketFetcher(tokens, apis, app, type),
  );
}

/** The answer to an invalidate report: the token to use now, and why it was not replaced. */
export interface InvalidateResult {
  token: ServedCredential;
  heldBack?: string;
}

/**
 * Compare-and-refresh of an app's access token after a caller saw `presented` fail. Classic mode
 * fetches a new token, at most once per 30 s per app (each one kills the last, so a burst of
 * reports must not fetch one each); stable mode uses `force_refresh`, within WeChat's 30 s /
 * 20-a-day budget. When a budget holds the refresh back, the current token is answered with the
 * reason. Both budgets are counted in the database, for every instance.
 */
export async function invalidateAccessToken(
  deps: TokenApis & { tokens: TokenManager; store: Store; clock: Clock },
  app: AppRecord,
  presented: string,
): Promise<InvalidateResult> {
  requireTokenApp(app, 'access tokens');
  const key = { owner: appOwner(app), kind: 'access_token' };
  const secret = app.appSecret ?? '';
  // Douyin, like classic mode, issues a new token on every call (the last one then dies): at
  // most one refresh per 30 s per app, counted for every instance.
  if (app.kind === 'douyin') {
    const current = accessTokenFetcher(deps, app);
    return guardedInvalidate(deps, key, presented, {
      guard: CLASSIC_REFRESH_GUARD,
      refetch: () => current(undefined),
      current,
    });
  }
  return app.tokenMode === 'classic'
    ? guardedInvalidate(deps, key, presented, {
        guard: CLASSIC_REFRESH_GUARD,
        refetch: () => getAccessToken(deps.wechat, app.appId, secret),
        current: accessTokenFetcher(deps, app),
      })
    : guardedInvalidate(deps, key, presented, {
        guard: STABLE_FORCE_GUARD,
        refetch: () => getStableAccessToken(deps.wechat, app.appId, secret, true),
        current: accessTokenFetcher(deps, app),
      });
}

/**
 * Compare-and-refresh of any credential a caller reported dead (apps, components, authorizers):
 * `refetch` runs only when `presented` is still the stored value and `guard` allows it (counted
 * per owner in the database); when the guard holds it back, the value {@link TokenManager.get}
 * serves (fetched with `current` if need be) is answered with the reason.
 */
export async function guardedInvalidate(
  deps: { tokens: TokenManager; store: Store; clock: Clock },
  key: CredentialKey,
  presented: string,
  how: { guard: RefreshGuard; refetch: () => Promise<IssuedCredential>; current: Fetcher },
): Promise<InvalidateResult> {
  const fetcher: Fetcher = async () => {
    const now = deps.clock.now();
    await assertRefreshAllowed(deps.store, how.guard, key.owner, now);
    const issued = await how.refetch();
    await spendRefresh(deps.store, how.guard, key.owner, now);
    return issued;
  };
  try {
    return { token: await deps.tokens.invalidate(key, presented, fetcher) };
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'RATE_LIMITED') throw err;
    const token = await deps.tokens.get(key, how.current);
    return { token, heldBack: err.message };
  }
}
