// WeCom self-built apps (`kind: wecom`). Loaded on the first WeCom request (LAZY_FILES in
// scripts/build-lib.ts): the WeChat paths never load it at a cold start. Import it only through
// `loadWecom()` (shared/tokens/app-tokens.ts).
import type { Clock } from '../clock';
import { AppError } from '../http/errors';
import type { AppRecord, Store } from '../store';
import { assertReadable } from '../store/unreadable';
import { appOwner, guardedInvalidate, type InvalidateResult } from '../tokens/app-tokens';
import { CLASSIC_REFRESH_GUARD } from '../tokens/force-guard';
import type { Fetcher, ServedCredential, TokenManager } from '../tokens/manager';
import type { IssuedCredential } from '../wechat/credentials';
import { callWechatJson, type WechatHttp, WechatTransportError } from '../wechat/http';

/** `GET /cgi-bin/gettoken?corpid=&corpsecret=` (https://developer.work.weixin.qq.com/document/path/91039). */
export const GETTOKEN_PATH = '/cgi-bin/gettoken';

/**
 * Errcodes of a proxied WeCom call that mean "this access token is dead": 40014 (invalid) and
 * 42001 (expired) (https://developer.work.weixin.qq.com/document/path/90455). WeCom's 40001 is
 * an invalid *secret*, which a new token cannot fix: no retry on it.
 */
export const WECOM_TOKEN_ERRCODES: ReadonlySet<number> = new Set([40014, 42001]);

/** A WeCom token is fetched again this long before it expires (WXHUB_REFRESH_AHEAD_SECONDS). */
export const WECOM_TOKEN_AHEAD_MS = 600_000;

/**
 * `gettoken` for one (corpId, corpSecret). WeCom answers `errcode` only on failure (path/91039
 * shows `errcode: 0`; its newer pages leave it out): an answer without errcode is a success.
 */
export async function getWecomToken(
  http: WechatHttp,
  corpId: string,
  corpSecret: string,
): Promise<IssuedCredential> {
  const r = await callWechatJson<{ access_token?: unknown; expires_in?: unknown }>(
    http,
    GETTOKEN_PATH,
    { corpid: corpId, corpsecret: corpSecret },
  );
  if (
    typeof r.access_token !== 'string' ||
    r.access_token === '' ||
    typeof r.expires_in !== 'number' ||
    r.expires_in <= 0
  ) {
    throw new WechatTransportError(GETTOKEN_PATH, 'answered without access_token or expires_in');
  }
  return { value: r.access_token, expiresIn: r.expires_in };
}

/** Throws a 400 for an app that is not a WeCom app, a 409 when its corpSecret is missing. */
function requireWecomApp(app: AppRecord): string {
  if (app.kind !== 'wecom') {
    throw new AppError('BAD_REQUEST', `app "${app.name}" is a ${app.kind} app, not a wecom app`);
  }
  assertReadable(app, 'apps.app_secret');
  if (app.appSecret === undefined) {
    throw new AppError('CONFLICT', `app "${app.name}" has no corpSecret configured`);
  }
  return app.appSecret;
}

/** Fetches a new token of a WeCom app (the timer, a first read, an invalidation). */
export function wecomTokenFetcher(http: WechatHttp, app: AppRecord): Fetcher {
  return () => getWecomToken(http, app.appId, requireWecomApp(app));
}

const tokenKey = (app: AppRecord) => ({ owner: appOwner(app), kind: 'access_token' });

/** Serves a WeCom app's access token through the credential manager (one lease, one cache). */
export function wecomAccessToken(
  deps: { tokens: TokenManager; wecom: WechatHttp },
  app: AppRecord,
): Promise<ServedCredential> {
  requireWecomApp(app);
  return deps.tokens.get(tokenKey(app), wecomTokenFetcher(deps.wecom, app));
}

/**
 * Compare-and-refresh of a WeCom app's token a caller saw fail: a new `gettoken` only when
 * `presented` is still the stored value, at most one per 30 s and 1,000 a day per app (WeCom
 * intercepts frequent calls, path/91039), counted in the database.
 */
export function invalidateWecomToken(
  deps: { tokens: TokenManager; wecom: WechatHttp; store: Store; clock: Clock },
  app: AppRecord,
  presented: string,
): Promise<InvalidateResult> {
  requireWecomApp(app);
  const fetcher = wecomTokenFetcher(deps.wecom, app);
  return guardedInvalidate(deps, tokenKey(app), presented, {
    guard: CLASSIC_REFRESH_GUARD,
    refetch: () => fetcher(undefined),
    current: fetcher,
  });
}

/** How the refresh pass renews a WeCom app's credential kind; undefined for other kinds. */
export function wecomRefreshPlan(
  deps: { wecom: WechatHttp; refreshAheadSeconds: number | undefined },
  app: AppRecord,
  kind: string,
): { fetcher: Fetcher; aheadMs: number } | undefined {
  if (kind !== 'access_token' || app.kind !== 'wecom') return undefined;
  return {
    fetcher: wecomTokenFetcher(deps.wecom, app),
    aheadMs: (deps.refreshAheadSeconds ?? WECOM_TOKEN_AHEAD_MS / 1000) * 1000,
  };
}
