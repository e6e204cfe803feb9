import { createHash, randomBytes } from 'node:crypto';
import type { AppRegistry } from '../apps/registry';
import type { Clock } from '../clock';
import { authorizerStatus } from '../component/authorizers';
import { withComponentToken } from '../component/component';
import { AppError, WechatApiError } from '../http/errors';
import type { AppRecord, Store } from '../store';
import { assertReadable } from '../store/unreadable';
import type { TokenManager } from '../tokens/manager';
import { callWechatJson, type WechatHttp, WechatTransportError } from '../wechat/http';
import { allowedRedirect } from './redirects';

/**
 * OAuth2 web authorization of an official account, kept inside the hub: the browser goes to
 * WeChat's page (`connect/oauth2/authorize`), WeChat sends it back to the hub's callback with a
 * code, the hub exchanges the code (`sns/oauth2/access_token`, or
 * `sns/oauth2/component/access_token` for an account authorized to a third-party platform) and,
 * for `snsapi_userinfo`, reads the user (`sns/userinfo`); the caller's page gets only a
 * single-use `wxhub_ticket` that its backend redeems. Codes and OAuth tokens never leave the hub,
 * and the OAuth access token is not stored at all: the hub reads the user once, at the callback.
 *
 * Sources: https://developers.weixin.qq.com/doc/service/api/webdev/access/api_snsaccesstoken ,
 * https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Official_Accounts/official_account_website_authorization.html
 */

export const OAUTH_SCOPES = ['snsapi_base', 'snsapi_userinfo'] as const;
export type OAuthScope = (typeof OAUTH_SCOPES)[number];
export const OAUTH_PAGE_PATH = '/connect/oauth2/authorize';
export const SNS_ACCESS_TOKEN_PATH = '/sns/oauth2/access_token';
export const SNS_COMPONENT_ACCESS_TOKEN_PATH = '/sns/oauth2/component/access_token';
export const SNS_USERINFO_PATH = '/sns/userinfo';
/** A `state` works once, for 10 minutes. */
export const STATE_TTL_MS = 10 * 60_000;
/** A `wxhub_ticket` is redeemed once, within 5 minutes. */
export const TICKET_TTL_MS = 5 * 60_000;
/** The query parameter the caller's redirect receives. */
export const TICKET_PARAM = 'wxhub_ticket';
/** Expired states and tickets are deleted a day after expiry (replays stay recognisable). */
const PURGE_AFTER_MS = 24 * 60 * 60_000;

/** `state` as the hub makes it: 48 hex digits (WeChat takes `[a-zA-Z0-9]`, ≤ 128 bytes). */
const STATE = /^[0-9a-f]{48}$/;
/** WeChat's OAuth codes are short printable tokens. */
const CODE = /^[A-Za-z0-9_-]{1,256}$/;
/** A `wxhub_ticket`: 43 base64url characters (32 random bytes). */
export const TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** WeChat's answers for a code that is not (or no longer) valid. */
const BAD_CODE_ERRCODES = new Set([40029, 40163]);

export interface OAuthDeps {
  store: Store;
  wechat: WechatHttp;
  clock: Clock;
  tokens: TokenManager;
  apps: AppRegistry;
  config: { wechatOpenBase: string };
}

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/** How an account's OAuth runs: with its own AppSecret, or through a third-party platform. */
type Via = { kind: 'direct'; secret: string } | { kind: 'component'; component: AppRecord };

/**
 * The account's OAuth route: 400 for an app that is not an official account or has no
 * `oauthRedirects`; 409 without an AppSecret (direct) or when `oauthComponent` is not a
 * component app; 410 REVOKED when the account revoked the platform.
 */
async function oauthVia(deps: OAuthDeps, app: AppRecord): Promise<Via> {
  if (app.kind !== 'official') {
    throw new AppError(
      'BAD_REQUEST',
      `app "${app.name}" is a ${app.kind} app; OAuth web authorization is for official apps`,
    );
  }
  if (app.oauthComponent === undefined) {
    assertReadable(app, 'apps.app_secret');
    if (app.appSecret === undefined) {
      throw new AppError('CONFLICT', `app "${app.name}" has no appSecret configured`);
    }
    return { kind: 'direct', secret: app.appSecret };
  }
  const component = await deps.apps.require(app.oauthComponent).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'NOT_FOUND') return undefined;
    throw err;
  });
  if (component === undefined || component.kind !== 'component') {
    throw new AppError(
      'CONFLICT',
      `oauthComponent of app "${app.name}" names "${app.oauthComponent}", which is not an enabled component app`,
    );
  }
  if ((await authorizerStatus(deps, component, app.appId)) === 'revoked') {
    throw new AppError(
      'REVOKED',
      `${app.appId} revoked its authorization of "${component.name}"; it must authorize the platform again`,
    );
  }
  return { kind: 'component', component };
}

/**
 * Starts an authorization: checks `scope` and `redirect` (the app's `oauthRedirects`), keeps a
 * fresh single-use `state` bound to both for 10 minutes, and answers WeChat's page URL (its
 * parameter order and `#wechat_redirect` as WeChat's doc writes them).
 */
export async function startAuthorization(
  deps: OAuthDeps,
  app: AppRecord,
  q: { scope: string | undefined; redirect: string | undefined },
  callbackUri: string,
): Promise<string> {
  const via = await oauthVia(deps, app);
  const scope = q.scope ?? 'snsapi_base';
  if (!(OAUTH_SCOPES as readonly string[]).includes(scope)) {
    throw new AppError('BAD_REQUEST', `scope must be ${OAUTH_SCOPES.join(' or ')}`);
  }
  if (q.redirect === undefined || q.redirect === '') {
    throw new AppError('BAD_REQUEST', 'redirect is missing: the page to come back to');
  }
  const redirect = allowedRedirect(app.oauthRedirects ?? [], q.redirect);
  if (redirect === undefined) {
    throw new AppError(
      'BAD_REQUEST',
      `redirect is not allowed for app "${app.name}": add its URL (or a prefix ending in /) to oauthRedirects in the apps file`,
    );
  }
  if (redirect.searchParams.has(TICKET_PARAM)) {
    throw new AppError('BAD_REQUEST', `redirect must not carry ${TICKET_PARAM} already`);
  }
  const now = deps.clock.now();
  await deps.store.oauth.purgeExpired(now - PURGE_AFTER_MS, 100);
  const state = randomBytes(24).toString('hex');
  await deps.store.oauth.putState(
    sha256(state),
    { app: app.name, scope, redirect: redirect.href, expiresAt: now + STATE_TTL_MS },
    now,
  );
  const params: [string, string][] = [
    ['appid', app.appId],
    ['redirect_uri', callbackUri],
    ['response_type', 'code'],
    ['scope', scope],
    ['state', state],
  ];
  if (via.kind === 'component') params.push(['component_appid', via.component.appId]);
  const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `${deps.config.wechatOpenBase}${OAUTH_PAGE_PATH}?${query}#wechat_redirect`;
}

/** What the callback reads from WeChat's redirect. */
export interface CallbackQuery {
  code: string | undefined;
  state: string | undefined;
  /** The component variant adds the account's appid. */
  appid: string | undefined;
}

/** The state of `app` named by `raw`, taken (single use); 400 naming what is wrong. */
async function takeState(deps: OAuthDeps, app: AppRecord, raw: string | undefined) {
  const again = 'open the page you came from and sign in again';
  if (raw === undefined || !STATE.test(raw)) {
    throw new AppError('BAD_REQUEST', `this sign-in has no valid state; ${again}`);
  }
  const r = await deps.store.oauth.takeState(sha256(raw), app.name, deps.clock.now());
  if (r.outcome === 'unknown') {
    throw new AppError(
      'BAD_REQUEST',
      `this sign-in was not started here (unknown state); ${again}`,
    );
  }
  if (r.outcome === 'used') {
    throw new AppError('BAD_REQUEST', `this sign-in link was already used; ${again}`);
  }
  if (r.outcome === 'expired') {
    throw new AppError('BAD_REQUEST', `this sign-in took over 10 minutes and expired; ${again}`);
  }
  return r.record;
}

interface SnsToken {
  access_token?: unknown;
  openid?: unknown;
  unionid?: unknown;
  scope?: unknown;
  is_snapshotuser?: unknown;
}

/** Exchanges the code (direct or through the platform's component token). */
function exchangeCode(deps: OAuthDeps, app: AppRecord, via: Via, code: string): Promise<SnsToken> {
  const grant = { appid: app.appId, code, grant_type: 'authorization_code' };
  if (via.kind === 'direct') {
    return callWechatJson<SnsToken>(deps.wechat, SNS_ACCESS_TOKEN_PATH, {
      ...grant,
      secret: via.secret,
    });
  }
  return withComponentToken(deps, via.component, (componentToken) =>
    callWechatJson<SnsToken>(deps.wechat, SNS_COMPONENT_ACCESS_TOKEN_PATH, {
      ...grant,
      component_appid: via.component.appId,
      component_access_token: componentToken,
    }),
  );
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/**
 * WeChat's redirect back: takes the state (forged, replayed or expired: 400), exchanges the code
 * (a refusal, without code: 403), reads the user for `snsapi_userinfo` (not for a snapshot-mode
 * user, whose userinfo WeChat refuses), keeps a single-use ticket for 5 minutes and answers the
 * caller's redirect with `wxhub_ticket` appended (its own query kept as written).
 */
export async function completeAuthorization(
  deps: OAuthDeps,
  app: AppRecord,
  q: CallbackQuery,
): Promise<string> {
  const via = await oauthVia(deps, app);
  const state = await takeState(deps, app, q.state);
  if (q.code === undefined || q.code === '') {
    throw new AppError(
      'FORBIDDEN',
      'you declined the authorization in WeChat; open the page you came from to try again',
    );
  }
  if (!CODE.test(q.code) || (q.appid !== undefined && q.appid !== app.appId)) {
    throw new AppError('BAD_REQUEST', 'WeChat sent back a malformed code; sign in again');
  }
  let token: SnsToken;
  try {
    token = await exchangeCode(deps, app, via, q.code);
  } catch (err) {
    if (err instanceof WechatApiError && BAD_CODE_ERRCODES.has(err.errcode)) {
      throw new AppError(
        'BAD_REQUEST',
        'this WeChat sign-in code is invalid or used; sign in again',
      );
    }
    throw err;
  }
  const openid = text(token.openid);
  const accessToken = text(token.access_token);
  const api = via.kind === 'direct' ? SNS_ACCESS_TOKEN_PATH : SNS_COMPONENT_ACCESS_TOKEN_PATH;
  if (openid === undefined || accessToken === undefined) {
    throw new WechatTransportError(api, 'answered without openid or access_token');
  }
  const scope = text(token.scope) === 'snsapi_userinfo' ? 'snsapi_userinfo' : state.scope;
  const snapshotUser = token.is_snapshotuser === 1;
  let user: Record<string, unknown> | undefined;
  if (scope === 'snsapi_userinfo' && !snapshotUser) {
    const {
      errcode: _c,
      errmsg: _m,
      ...info
    } = await callWechatJson<Record<string, unknown>>(deps.wechat, SNS_USERINFO_PATH, {
      access_token: accessToken,
      openid,
      lang: 'zh_CN',
    });
    user = info;
  }
  const ticket = randomBytes(32).toString('base64url');
  const now = deps.clock.now();
  const unionid = text(token.unionid) ?? text(user?.unionid);
  await deps.store.oauth.putTicket(
    sha256(ticket),
    { app: app.name, openid, unionid, scope, user, snapshotUser, expiresAt: now + TICKET_TTL_MS },
    now,
  );
  const back = new URL(state.redirect);
  const sep = back.search === '' ? '?' : '&';
  return `${back.origin}${back.pathname}${back.search}${sep}${TICKET_PARAM}=${ticket}`;
}

/** What a redeemed ticket tells the caller's backend (never a code or a token). */
export interface RedeemedTicket {
  app: string;
  openid: string;
  unionid?: string;
  scope: string;
  user?: Record<string, unknown>;
  snapshotUser?: true;
}

/** Redeems a ticket once: 404 NOT_FOUND when never issued, 410 GONE when used or expired. */
export async function redeemTicket(
  deps: Pick<OAuthDeps, 'store' | 'clock'>,
  ticket: string,
): Promise<RedeemedTicket> {
  const r = await deps.store.oauth.takeTicket(sha256(ticket), deps.clock.now());
  if (r.outcome === 'unknown') throw new AppError('NOT_FOUND', 'no such ticket');
  if (r.outcome === 'used') throw new AppError('GONE', 'this ticket was already redeemed');
  if (r.outcome === 'expired') throw new AppError('GONE', 'this ticket expired (5 minutes)');
  const t = r.record;
  return {
    app: t.app,
    openid: t.openid,
    ...(t.unionid === undefined ? {} : { unionid: t.unionid }),
    scope: t.scope,
    ...(t.user === undefined ? {} : { user: t.user }),
    ...(t.snapshotUser ? { snapshotUser: true as const } : {}),
  };
}
