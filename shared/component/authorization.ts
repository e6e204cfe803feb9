import { AppError, WechatApiError } from '../http/errors';
import type { AppRecord } from '../store';
import { callWechatJson, WechatTransportError } from '../wechat/http';
import { type AuthorizerDeps, authorizerStatus, exchangeAuthorizationCode } from './authorizers';
import { requireComponent, withComponentToken } from './component';

/**
 * How an admin authorizes a third-party platform: the hub mints a pre-auth code
 * (https://developers.weixin.qq.com/doc/oplatform/openApi/ticket-token/api_getpreauthcode),
 * sends the admin to WeChat's authorization page, PC `componentloginpage` or in the WeChat client
 * `bindcomponent`
 * (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Authorization_Process_Technical_Description.html),
 * and WeChat sends the browser back to `redirect_uri?auth_code=…&expires_in=600` while it pushes
 * the same code in `authorized`; whichever comes first exchanges it.
 */

export const PRE_AUTH_CODE_PATH = '/cgi-bin/component/api_create_preauthcode';
/** Page kinds: PC (QR code scanned by the admin) and H5 (opened inside the WeChat client). */
export const AUTH_PAGE_TYPES = ['pc', 'h5'] as const;
export type AuthPageType = (typeof AUTH_PAGE_TYPES)[number];
/**
 * `auth_type`: 1 Official Accounts only, 2 Mini Programs only, 3 both (WeChat's page above);
 * 4 to 6 are the newer account kinds (Channels, shops) the current page lists.
 */
export const AUTH_TYPES = [1, 2, 3, 4, 5, 6] as const;
/** An appid as WeChat writes them (`wx` + 16 hex for most accounts). */
const APP_ID = /^[A-Za-z0-9_-]{4,64}$/;
/** WeChat's codes are short printable tokens (`queryauthcode@@@…`); anything else is refused. */
const AUTH_CODE = /^[A-Za-z0-9@_.+/=-]{8,512}$/;

/** What the authorization page is asked to show. */
export interface AuthUrlOptions {
  type: AuthPageType;
  authType?: number;
  bizAppId?: string;
}

/** Reads `type`, `authType`, `bizAppId` from a query; 400 for a bad one or for both of the last two. */
export function authUrlOptions(q: {
  type?: string | undefined;
  authType?: string | undefined;
  bizAppId?: string | undefined;
}): AuthUrlOptions {
  const type = q.type === undefined || q.type === '' ? 'pc' : q.type;
  if (!AUTH_PAGE_TYPES.includes(type as AuthPageType)) {
    throw new AppError('BAD_REQUEST', 'type must be pc or h5');
  }
  const given = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  const authType = given(q.authType);
  const bizAppId = given(q.bizAppId);
  if (authType !== undefined && bizAppId !== undefined) {
    throw new AppError('BAD_REQUEST', 'authType and bizAppId cannot be used together');
  }
  const opts: AuthUrlOptions = { type: type as AuthPageType };
  if (authType !== undefined) {
    const n = Number(authType);
    if (!/^\d$/.test(authType) || !(AUTH_TYPES as readonly number[]).includes(n)) {
      throw new AppError('BAD_REQUEST', `authType must be one of ${AUTH_TYPES.join(', ')}`);
    }
    opts.authType = n;
  }
  if (bizAppId !== undefined) {
    if (!APP_ID.test(bizAppId)) throw new AppError('BAD_REQUEST', 'bizAppId must be an appid');
    opts.bizAppId = bizAppId;
  }
  return opts;
}

/** Mints a single-use pre-auth code; `expiresAt` from WeChat's `expires_in`. */
export async function createPreAuthCode(
  deps: AuthorizerDeps,
  app: AppRecord,
): Promise<{ code: string; expiresAt: number }> {
  requireComponent(app);
  const r = await withComponentToken(deps, app, (componentToken) =>
    callWechatJson<{ pre_auth_code?: unknown; expires_in?: unknown }>(
      deps.wechat,
      PRE_AUTH_CODE_PATH,
      { component_access_token: componentToken },
      { method: 'POST', json: { component_appid: app.appId } },
    ),
  );
  if (typeof r.pre_auth_code !== 'string' || r.pre_auth_code === '') {
    throw new WechatTransportError(PRE_AUTH_CODE_PATH, 'answered without pre_auth_code');
  }
  const expiresIn = typeof r.expires_in === 'number' && r.expires_in > 0 ? r.expires_in : 600;
  return { code: r.pre_auth_code, expiresAt: deps.clock.now() + expiresIn * 1000 };
}

/**
 * The hub's origin as browsers and WeChat see it: `WXHUB_PUBLIC_URL`, else the origin of the
 * request that started the flow (its `Host`, and `X-Forwarded-Proto` when that is http or https).
 * A forged `Host` gains nothing: WeChat sends the code only to the callback domain registered for
 * the platform.
 */
export function publicBase(
  publicUrl: string | undefined,
  requestUrl: string,
  forwardedProto: string | undefined,
): string {
  if (publicUrl !== undefined) return publicUrl;
  const u = new URL(requestUrl);
  const proto = forwardedProto?.split(',')[0]?.trim();
  if (proto === 'http' || proto === 'https') u.protocol = `${proto}:`;
  return u.origin;
}

/** This hub's `redirect_uri` for `app`: `{base}/wx/{app}/component/authorized`. */
export function authorizedUri(base: string, app: AppRecord): string {
  return `${base}/wx/${app.name}/component/authorized`;
}

/**
 * The URL of WeChat's authorization page with a fresh pre-auth code. `auth_type` and
 * `biz_appid` are sent only when given, never both.
 */
export async function authorizationUrl(
  deps: AuthorizerDeps & { config: { wechatMpBase: string } },
  app: AppRecord,
  opts: AuthUrlOptions,
  redirectUri: string,
): Promise<{ url: string; expiresAt: number }> {
  const pre = await createPreAuthCode(deps, app);
  const params: [string, string][] = [
    ['component_appid', app.appId],
    ['pre_auth_code', pre.code],
    ['redirect_uri', redirectUri],
  ];
  if (opts.authType !== undefined) params.push(['auth_type', String(opts.authType)]);
  if (opts.bizAppId !== undefined) params.push(['biz_appid', opts.bizAppId]);
  const query = (ps: [string, string][]) =>
    ps.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const base = deps.config.wechatMpBase;
  const url =
    opts.type === 'pc'
      ? `${base}/cgi-bin/componentloginpage?${query(params)}`
      : `${base}/safe/bindcomponent?${query([['action', 'bindcomponent'], ['no_scan', '1'], ...params])}#wechat_redirect`;
  return { url, expiresAt: pre.expiresAt };
}

/** WeChat's answers for a code that is not (or no longer) valid: 61009 used/unknown, 61010 expired. */
const BAD_CODE_ERRCODES = new Set([61009, 61010]);

/**
 * The redirect's half of an authorization: exchanges `auth_code` (or finds it exchanged by the
 * push) and answers the authorizer's appid. 400 for a malformed, unknown, used or expired code
 * (nothing stored), 410 REVOKED when the authorization was revoked meanwhile.
 */
export async function completeAuthorization(
  deps: AuthorizerDeps,
  app: AppRecord,
  code: string | undefined,
): Promise<string> {
  requireComponent(app);
  if (code === undefined || !AUTH_CODE.test(code)) {
    throw new AppError('BAD_REQUEST', 'auth_code is missing or malformed');
  }
  let authorizerAppId: string;
  try {
    const r = await exchangeAuthorizationCode(deps, app, code, { kind: 'redirect' });
    if (r.outcome === 'busy') throw new AppError('UNAVAILABLE', 'the authorization is busy');
    authorizerAppId = r.authorizerAppId;
  } catch (err) {
    if (err instanceof WechatApiError && BAD_CODE_ERRCODES.has(err.errcode)) {
      throw new AppError(
        'BAD_REQUEST',
        'this authorization code is invalid or expired; start the authorization again',
      );
    }
    throw err;
  }
  if ((await authorizerStatus(deps, app, authorizerAppId)) === 'revoked') {
    throw new AppError('REVOKED', `authorizer ${authorizerAppId} revoked this authorization`);
  }
  return authorizerAppId;
}

/** Where the browser goes after an authorization: `authRedirectUrl?appid=…&status=authorized`. */
export function afterAuthorization(app: AppRecord, authorizerAppId: string): string | undefined {
  if (app.authRedirectUrl === undefined) return undefined;
  const u = new URL(app.authRedirectUrl);
  u.searchParams.set('appid', authorizerAppId);
  u.searchParams.set('status', 'authorized');
  return u.toString();
}
