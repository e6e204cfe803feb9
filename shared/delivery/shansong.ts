import { createHmac } from 'node:crypto';
import { AppError } from '../http/errors';
import type { AppRecord } from '../store';
import type { Fetcher, ServedCredential } from '../tokens/manager';
import type { IssuedCredential } from '../wechat/credentials';
import {
  jsonAnswer,
  type PlatformAnswer,
  type PlatformHttp,
  platformError,
  postPlatform,
} from './http';
import {
  exchangeOnce,
  type MerchantDeps,
  merchantAccessToken,
  refreshKey,
  requireKind,
  requireMerchantKey,
  storeAuthorization,
  storedRefreshToken,
} from './merchants';
import { sameSignature, shansongSign } from './sign';

/**
 * Shansong (闪送 open platform v5): OAuth authorization of a merchant, the unsigned code → token
 * exchange, the signed refresh, the signing proxies of the `developer`, `merchants`,
 * `merchantRegister` and `file` API families, and order callbacks. Official pages:
 * http://open.ishansong.com/documentCenter/327 (authorization and tokens); facts as the public
 * implementations agree (LqsShansong PHP SDK, ShopeX's Java client, CharLemAznable/varys).
 */

export const SHANSONG_AUTH_PAGE = '/auth';
export const SHANSONG_TOKEN_API = '/openapi/oauth/token';
export const SHANSONG_REFRESH_API = '/openapi/oauth/refresh_token';
/** The scope of the authorization page (varys). */
export const SHANSONG_SCOPE = 'shop_open_api';
/** The API families the proxy signs for (`/openapi/{family}/v5/…`). */
export const SHANSONG_FAMILIES = ['developer', 'merchants', 'merchantRegister', 'file'] as const;
export type ShansongFamily = (typeof SHANSONG_FAMILIES)[number];
/** The acknowledgement of an order callback (varys sends `{"status":200,"msg":""}`). */
export const SHANSONG_CALLBACK_ACK = '{"status":200,"msg":"","data":""}';
/**
 * A merchant's access token lives 7 days (CSDN walkthrough; UNCONFIRMED officially): the value
 * used when an answer omits `expires_in`.
 */
export const SHANSONG_DEFAULT_TOKEN_SECONDS = 7 * 86_400;

export interface ShansongDeps extends MerchantDeps {
  shansong: PlatformHttp;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;

/** `{"status":200,"msg","data"}`; another status is a 502 naming it. */
function dataOf(deps: ShansongDeps, api: string, a: PlatformAnswer): Record<string, unknown> {
  const body = jsonAnswer(deps.shansong, api, a);
  const status = text(body.status);
  if (status !== '200')
    throw platformError('Shansong', api, status ?? '(none)', text(body.msg) ?? '');
  const data = body.data;
  if (typeof data !== 'object' || data === null) {
    throw platformError('Shansong', api, '200', 'data is not an object');
  }
  return data as Record<string, unknown>;
}

function tokensOf(api: string, d: Record<string, unknown>) {
  const accessToken = text(d.access_token);
  if (accessToken === undefined) throw platformError('Shansong', api, '200', 'no access_token');
  const n = Number(text(d.expires_in));
  return {
    accessToken,
    expiresIn: Number.isFinite(n) && n > 0 ? n : SHANSONG_DEFAULT_TOKEN_SECONDS,
    refreshToken: text(d.refresh_token),
  };
}

const form = (fields: Record<string, string | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== '') q.set(k, v);
  return q.toString();
};
const FORM = 'application/x-www-form-urlencoded;charset=utf-8';

/** Signed public fields (`clientId`, `timestamp` in ms, the others given) plus `sign`. */
function signed(
  deps: ShansongDeps,
  app: AppRecord,
  secret: string,
  fields: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const all = { clientId: app.appId, timestamp: String(deps.clock.now()), ...fields };
  return { ...all, sign: shansongSign(secret, all) };
}

/** The hub's `redirect_uri` for `app`: `{base}/shansong/{app}/authorized`. */
export const shansongRedirectUri = (base: string, app: AppRecord) =>
  `${base}/shansong/${app.name}/authorized`;

/** The authorization page for merchant `merchant` (`state` = its name in wxhub). */
export function shansongAuthorizeUrl(
  deps: ShansongDeps,
  app: AppRecord,
  merchant: string,
  redirectUri: string,
): string {
  requireKind(app, 'shansong');
  requireMerchantKey(merchant, 'merchant');
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: app.appId,
    scope: SHANSONG_SCOPE,
    redirect_uri: redirectUri,
    state: merchant,
  });
  return `${deps.shansong.baseUrl}${SHANSONG_AUTH_PAGE}?${q.toString()}`;
}

/** How long a link from {@link shansongAuthorizeLink} may be opened. */
export const AUTHORIZE_LINK_TTL_MS = 24 * 3600_000;
/** How long the browser that opened it has to come back from Shansong's page. */
export const AUTHORIZE_COOKIE_TTL_MS = 10 * 60_000;
/** The cookie that binds the browser's return to the link it opened (path `/shansong/{app}/`). */
export const AUTHORIZE_COOKIE = 'wxhub_shansong_authorize';

/** A MAC of `what` under the app's secret (links and the browser's cookie), 32 hex digits. */
function authorizeMac(secret: string, what: string): string {
  return createHmac('sha256', secret).update(`wxhub shansong ${what}`).digest('hex').slice(0, 32);
}

/**
 * The link a merchant opens to authorize `app` for merchant name `merchant`
 * (`GET /v1/shansong/{app}/authorize-url`): `{base}/shansong/{app}/authorize?merchant&expires&sig`.
 * `state` is the merchant's name, which Shansong echoes unsigned; were the authorize route open to
 * anyone, anyone could bind their own shop to any merchant's name. So the link is signed by the
 * hub (with the appSecret, 24 hours), and the browser that opens it gets a short cookie its return
 * must carry ({@link checkAuthorizeReturn}).
 */
export function shansongAuthorizeLink(
  deps: Pick<ShansongDeps, 'clock'>,
  app: AppRecord,
  merchant: string,
  base: string,
): { url: string; expiresAt: number } {
  const secret = requireKind(app, 'shansong');
  requireMerchantKey(merchant, 'merchant');
  const expires = Math.floor((deps.clock.now() + AUTHORIZE_LINK_TTL_MS) / 1000);
  const sig = authorizeMac(secret, `link ${app.name} ${merchant} ${expires}`);
  const q = new URLSearchParams({ merchant, expires: String(expires), sig });
  return {
    url: `${base}/shansong/${app.name}/authorize?${q.toString()}`,
    expiresAt: expires * 1000,
  };
}

/**
 * Checks a link from {@link shansongAuthorizeLink} (403 when it was not issued by the hub or has
 * expired) and answers its merchant and the cookie value that binds this browser to it.
 */
export function openAuthorizeLink(
  deps: Pick<ShansongDeps, 'clock'>,
  app: AppRecord,
  q: { merchant?: string | undefined; expires?: string | undefined; sig?: string | undefined },
): { merchant: string; cookie: string } {
  const secret = requireKind(app, 'shansong');
  const { merchant, expires, sig } = q;
  if (merchant === undefined) throw new AppError('BAD_REQUEST', 'merchant is required');
  requireMerchantKey(merchant, 'merchant');
  const refused = () =>
    new AppError(
      'FORBIDDEN',
      `this authorization link was not issued by the hub or has expired: get one from GET /v1/shansong/${app.name}/authorize-url`,
    );
  if (expires === undefined || sig === undefined || !/^\d{1,12}$/.test(expires)) throw refused();
  if (!sameSignature(authorizeMac(secret, `link ${app.name} ${merchant} ${expires}`), sig)) {
    throw refused();
  }
  if (Number(expires) * 1000 <= deps.clock.now()) throw refused();
  const until = Math.floor((deps.clock.now() + AUTHORIZE_COOKIE_TTL_MS) / 1000);
  const mac = authorizeMac(secret, `browser ${app.name} ${merchant} ${until}`);
  return { merchant, cookie: `${merchant}.${until}.${mac}` };
}

/**
 * 403 unless the browser returning with `state` carries the cookie {@link openAuthorizeLink} set
 * for that merchant, unexpired: a code brought back by any other browser is not exchanged.
 */
export function checkAuthorizeReturn(
  deps: Pick<ShansongDeps, 'clock'>,
  app: AppRecord,
  cookie: string | undefined,
  state: string | undefined,
): void {
  const secret = requireKind(app, 'shansong');
  const refused = new AppError(
    'FORBIDDEN',
    'this browser did not open an authorization link for this merchant (or took longer than ' +
      `${AUTHORIZE_COOKIE_TTL_MS / 60_000} minutes): open the link again`,
  );
  const m = /^([A-Za-z0-9_-]{1,64})\.(\d{1,12})\.([0-9a-f]{32})$/.exec(cookie ?? '');
  if (m === null || state === undefined || m[1] !== state) throw refused;
  const [, merchant, until, mac] = m;
  if (!sameSignature(authorizeMac(secret, `browser ${app.name} ${merchant} ${until}`), mac ?? '')) {
    throw refused;
  }
  if (Number(until) * 1000 <= deps.clock.now()) throw refused;
}

/**
 * The browser's return (`?code=…&state=<merchant>`): the code (alive one minute, single use) is
 * exchanged at once and exactly once, unsigned (`clientId`, `code`), and the tokens sealed.
 */
export async function shansongAuthorized(
  deps: ShansongDeps,
  app: AppRecord,
  code: string | undefined,
  state: string | undefined,
): Promise<{ merchant: string }> {
  requireKind(app, 'shansong');
  if (code === undefined || code === '' || state === undefined || state === '') {
    throw new AppError('BAD_REQUEST', 'code and state are required');
  }
  requireMerchantKey(state, 'state');
  const r = await exchangeOnce(deps, app, code, async () => {
    const a = await postPlatform(
      deps.shansong,
      SHANSONG_TOKEN_API,
      form({ clientId: app.appId, code }),
      FORM,
    );
    const t = tokensOf(SHANSONG_TOKEN_API, dataOf(deps, SHANSONG_TOKEN_API, a));
    await storeAuthorization(deps, 'shansong', app, state, t);
    return state;
  });
  return { merchant: r.merchant };
}

/** Refreshes a merchant's token (signed; the old refresh token is kept unless a new one comes). */
export function shansongTokenFetcher(
  deps: ShansongDeps,
  app: AppRecord,
  merchant: string,
): Fetcher {
  return async (): Promise<IssuedCredential> => {
    const secret = requireKind(app, 'shansong');
    const refresh = await storedRefreshToken(deps, 'shansong', app, merchant);
    const fields = signed(deps, app, secret, { data: JSON.stringify({ refreshToken: refresh }) });
    const a = await postPlatform(deps.shansong, SHANSONG_REFRESH_API, form(fields), FORM);
    const t = tokensOf(SHANSONG_REFRESH_API, dataOf(deps, SHANSONG_REFRESH_API, a));
    if (t.refreshToken !== undefined && t.refreshToken !== refresh) {
      const key = refreshKey('shansong', app, merchant);
      const row = await deps.store.credentials.get(key);
      const expiresAt = row?.expiresAt ?? Date.UTC(9999, 0, 1);
      await deps.store.credentials.put(key, { value: t.refreshToken, expiresAt }, deps.clock.now());
    }
    return { value: t.accessToken, expiresIn: t.expiresIn };
  };
}

/** A merchant's access token (404 unknown merchant, 410 revoked). */
export function shansongToken(
  deps: ShansongDeps,
  app: AppRecord,
  merchant: string,
): Promise<ServedCredential> {
  requireKind(app, 'shansong');
  return merchantAccessToken(
    deps,
    'shansong',
    app,
    merchant,
    shansongTokenFetcher(deps, app, merchant),
  );
}

/** A path under a family: segments of letters, digits, `_` and `-`. */
const API_PATH = /^[A-Za-z0-9_-]{1,64}(\/[A-Za-z0-9_-]{1,64}){0,4}$/;

/** What the proxy was given: the family, the path under `/openapi/{family}/v5/` and the body. */
export interface ShansongCall {
  family: string;
  path: string;
  /** `developer`, `merchants`, `merchantRegister`: the JSON text sent as `data` (may be empty). */
  json?: string;
  /** `file`: the multipart form as received (its file part passed on). */
  form?: FormData;
  /** `merchants` only: the merchant's shop id (`shopId`, signed). */
  shopId?: string | undefined;
}

/**
 * Signs and sends one call: `clientId`, `timestamp` (ms), `accessToken` (developer family: the
 * merchant's), `shopId` (merchants family), `data` (the JSON text exactly as given, left out when
 * empty) and `sign` form-encoded; the `file` family posts the multipart with `clientId`,
 * `timestamp` and a `sign` over those two only. The platform's answer is returned as it is.
 */
export async function shansongInvoke(
  deps: ShansongDeps,
  app: AppRecord,
  merchant: string,
  call: ShansongCall,
): Promise<PlatformAnswer> {
  const secret = requireKind(app, 'shansong');
  if (!(SHANSONG_FAMILIES as readonly string[]).includes(call.family)) {
    throw new AppError('BAD_REQUEST', `family must be one of ${SHANSONG_FAMILIES.join(', ')}`);
  }
  if (!API_PATH.test(call.path)) {
    throw new AppError('BAD_REQUEST', 'path must be an API path such as orderCalculate');
  }
  const api = `/openapi/${call.family}/v5/${call.path}`;
  if (call.family === 'file') {
    if (call.form === undefined)
      throw new AppError('BAD_REQUEST', 'file calls take a multipart body');
    const out = new FormData();
    const pub = signed(deps, app, secret, {});
    for (const [k, v] of call.form.entries()) {
      if (k === 'clientId' || k === 'timestamp' || k === 'sign') continue;
      out.append(k, v);
    }
    for (const [k, v] of Object.entries(pub)) if (v !== undefined) out.append(k, v);
    return postPlatform(deps.shansong, api, out);
  }
  const json = call.json?.trim() === '' ? undefined : call.json;
  if (json !== undefined) {
    try {
      JSON.parse(json);
    } catch {
      throw new AppError('BAD_REQUEST', 'body must be JSON (sent as the form field data)');
    }
  }
  const extra: Record<string, string | undefined> = { data: json };
  if (call.family === 'developer') {
    extra.accessToken = (await shansongToken(deps, app, merchant)).value;
  }
  if (call.family === 'merchants') {
    if (call.shopId === undefined || !/^\d{1,32}$/.test(call.shopId)) {
      throw new AppError('BAD_REQUEST', 'merchants calls need the query parameter shopId (digits)');
    }
    extra.shopId = call.shopId;
  }
  return postPlatform(deps.shansong, api, form(signed(deps, app, secret, extra)), FORM);
}

/**
 * The path secret of an app's callback URL (`/shansong/{app}/callback/{key}`): Shansong documents
 * no callback signature, so the URL itself is the credential. Derived from the appSecret (HMAC),
 * so nothing more is stored and a new appSecret gives a new URL; 32 hex characters (128 bits).
 */
export function shansongCallbackKey(app: AppRecord): string {
  const secret = requireKind(app, 'shansong');
  return createHmac('sha256', secret)
    .update(`wxhub shansong callback ${app.name}`)
    .digest('hex')
    .slice(0, 32);
}

/** 401 unless `key` is the app's callback path secret (nothing is stored then). */
export function verifyShansongCallbackKey(app: AppRecord, key: string): void {
  if (!sameSignature(shansongCallbackKey(app), key)) {
    throw new AppError('UNAUTHORIZED', 'unknown callback URL');
  }
}
