import { AppError } from '../http/errors';
import type { AppRecord, CredentialRecord } from '../store';
import type { Fetcher, ServedCredential } from '../tokens/manager';
import type { IssuedCredential } from '../wechat/credentials';
import { parseExactJson } from '../wechat/exact-json';
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
  requireKind,
  requireMerchantKey,
  storeAuthorization,
  storedRefreshToken,
} from './merchants';
import { fengniaoSignature, sameSignature } from './sign';

/**
 * Fengniao (蜂鸟即配, ele.me's delivery open platform, "anubis" v3): merchant authorization, the
 * signed code → token exchange and refresh, the signing proxy of `/v3/invoke/{api}` and signed
 * callbacks. Official pages: https://open.ele.me/documents/ka/1419 (authorization and tokens),
 * https://open.ele.me/documents/openApi/603 (invoke); the facts below are those two public
 * implementations agree on (MQEnergy/delivery-core `core/fn/v3`, CharLemAznable/varys `fengniao`).
 */

export const FENGNIAO_TOKEN_API = '/openapi/token';
export const FENGNIAO_REFRESH_API = '/openapi/refreshToken';
export const FENGNIAO_INVOKE_PREFIX = '/v3/invoke/';
/** The merchant authorization page (varys; `dev_id` is the developer id of the console). */
export const FENGNIAO_AUTH_PAGE = 'https://open.ele.me/app-auth';
/** The `version` of every business call. */
export const FENGNIAO_VERSION = '1.0';
/**
 * Within this long of a refresh, Fengniao answers the same pair again (only the first call in the
 * window rotates): the hub does not ask again inside it, it serves what it stored.
 */
export const FENGNIAO_REFRESH_WINDOW_MS = 10 * 60_000;
/**
 * The acknowledgement of a callback. UNCONFIRMED officially: varys answers `{"result":"OK"}`;
 * kept in this one constant.
 */
export const FENGNIAO_CALLBACK_ACK = '{"result":"OK"}';
/** The auth callback's acknowledgement (varys answers the text `Success`). UNCONFIRMED. */
export const FENGNIAO_AUTH_ACK = 'Success';

export interface FengniaoDeps extends MerchantDeps {
  fengniao: PlatformHttp;
}

/** Epoch milliseconds as text: every Fengniao timestamp is in ms. */
const msText = (deps: { clock: { now(): number } }) => String(deps.clock.now());

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
const seconds = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
};

/** The merchant authorization page of `app` (`app_id`, `dev_id`). */
export function fengniaoAuthorizeUrl(app: AppRecord): string {
  requireKind(app, 'fengniao');
  const q = new URLSearchParams({ app_id: app.appId });
  if (app.devId !== undefined) q.set('dev_id', app.devId);
  return `${FENGNIAO_AUTH_PAGE}?${q.toString()}`;
}

/**
 * The envelope of the token APIs: `{"code":"200","msg","business_data":"<JSON text>"}` (`code` a
 * string in varys, compared as a number in the PHP sample: both accepted). Another code is a 502
 * naming it.
 */
function businessData(deps: FengniaoDeps, api: string, a: PlatformAnswer): Record<string, unknown> {
  const body = jsonAnswer(deps.fengniao, api, a);
  const code = text(body.code);
  if (code !== '200') {
    throw platformError('Fengniao', api, code ?? '(none)', text(body.msg) ?? '');
  }
  const raw = body.business_data;
  let data: unknown = raw;
  if (typeof raw === 'string') {
    try {
      data = JSON.parse(raw);
    } catch {
      data = undefined;
    }
  }
  if (typeof data !== 'object' || data === null) {
    throw platformError('Fengniao', api, '200', 'business_data is not a JSON object');
  }
  return data as Record<string, unknown>;
}

/** Posts a signed JSON body (the signature added over every other field). */
async function postSigned(
  deps: FengniaoDeps,
  secret: string,
  api: string,
  fields: Record<string, string>,
): Promise<PlatformAnswer> {
  const signature = fengniaoSignature(secret, fields);
  return postPlatform(
    deps.fengniao,
    api,
    JSON.stringify({ ...fields, signature }),
    'application/json;charset=utf-8',
  );
}

/** Access and refresh token of a token answer's `business_data`. */
function tokensOf(api: string, d: Record<string, unknown>) {
  const accessToken = text(d.access_token);
  const expiresIn = seconds(d.expire_in);
  if (accessToken === undefined || expiresIn === undefined) {
    throw platformError('Fengniao', api, '200', 'answered without access_token or expire_in');
  }
  return {
    accessToken,
    expiresIn,
    refreshToken: text(d.refresh_token),
    refreshExpiresIn: seconds(d.re_expire_in),
  };
}

/**
 * The platform's authorization callback (`{"code","merchant_id","scope","state"}`): the code is
 * exchanged exactly once (a redelivery answers the same merchant), the tokens sealed, the merchant
 * marked authorized.
 */
export async function fengniaoAuthCallback(
  deps: FengniaoDeps,
  app: AppRecord,
  body: Record<string, unknown>,
): Promise<{ merchantId: string }> {
  const secret = requireKind(app, 'fengniao');
  const code = text(body.code);
  const merchantId = text(body.merchant_id);
  if (code === undefined || merchantId === undefined) {
    throw new AppError('BAD_REQUEST', 'body must carry code and merchant_id');
  }
  requireMerchantKey(merchantId, 'merchant_id');
  const r = await exchangeOnce(deps, app, code, async () => {
    const a = await postSigned(deps, secret, FENGNIAO_TOKEN_API, {
      grant_type: 'authorization_code',
      code,
      app_id: app.appId,
      merchant_id: merchantId,
      timestamp: msText(deps),
    });
    const t = tokensOf(FENGNIAO_TOKEN_API, businessData(deps, FENGNIAO_TOKEN_API, a));
    await storeAuthorization(deps, 'fengniao', app, merchantId, t);
    return merchantId;
  });
  return { merchantId: r.merchant };
}

/**
 * Refreshes a merchant's access token with its refresh token (`/openapi/refreshToken`, signed),
 * keeping the new refresh token. Inside {@link FENGNIAO_REFRESH_WINDOW_MS} of the last issue the
 * stored token is answered instead: the platform would answer the same pair.
 */
export function fengniaoTokenFetcher(
  deps: FengniaoDeps,
  app: AppRecord,
  merchantId: string,
): Fetcher {
  return async (current: CredentialRecord | undefined): Promise<IssuedCredential> => {
    const secret = requireKind(app, 'fengniao');
    const now = deps.clock.now();
    if (
      current?.value !== undefined &&
      current.expiresAt !== undefined &&
      current.expiresAt > now + 1000 &&
      current.refreshedAt !== undefined &&
      now - current.refreshedAt < FENGNIAO_REFRESH_WINDOW_MS
    ) {
      return { value: current.value, expiresIn: Math.floor((current.expiresAt - now) / 1000) };
    }
    const refresh = await storedRefreshToken(deps, 'fengniao', app, merchantId);
    const a = await postSigned(deps, secret, FENGNIAO_REFRESH_API, {
      grant_type: 'refresh_token',
      refresh_token: refresh,
      app_id: app.appId,
      merchant_id: merchantId,
      timestamp: msText(deps),
    });
    const t = tokensOf(FENGNIAO_REFRESH_API, businessData(deps, FENGNIAO_REFRESH_API, a));
    if (t.refreshToken !== undefined && t.refreshToken !== refresh) {
      const expiresAt =
        t.refreshExpiresIn === undefined
          ? Date.UTC(9999, 0, 1)
          : deps.clock.now() + t.refreshExpiresIn * 1000;
      await deps.store.credentials.put(
        { owner: `fengniao:${app.name}:${merchantId}`, kind: 'merchant_refresh_token' },
        { value: t.refreshToken, expiresAt },
        deps.clock.now(),
      );
    }
    return { value: t.accessToken, expiresIn: t.expiresIn };
  };
}

/** A merchant's access token (404 unknown merchant, 410 revoked). */
export function fengniaoToken(
  deps: FengniaoDeps,
  app: AppRecord,
  merchantId: string,
): Promise<ServedCredential> {
  requireKind(app, 'fengniao');
  return merchantAccessToken(
    deps,
    'fengniao',
    app,
    merchantId,
    fengniaoTokenFetcher(deps, app, merchantId),
  );
}

/** A business API name: letters and digits only (`createOrder`, `chainstoreQuery`…). */
const API_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/**
 * Calls `/v3/invoke/{api}` for a merchant: `businessData` (the caller's JSON text, exactly as sent:
 * not parsed again, not re-serialised) goes in `business_data` and is signed as that very string,
 * with the merchant's token and a millisecond timestamp. The platform's answer is returned as it is.
 */
export async function fengniaoInvoke(
  deps: FengniaoDeps,
  app: AppRecord,
  merchantId: string,
  api: string,
  businessData: string,
): Promise<PlatformAnswer> {
  const secret = requireKind(app, 'fengniao');
  if (!API_NAME.test(api)) {
    throw new AppError('BAD_REQUEST', 'api must be a Fengniao API name such as createOrder');
  }
  try {
    const parsed: unknown = JSON.parse(businessData);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error();
  } catch {
    throw new AppError('BAD_REQUEST', 'body must be a JSON object (sent as business_data)');
  }
  const token = await fengniaoToken(deps, app, merchantId);
  return postSigned(deps, secret, `${FENGNIAO_INVOKE_PREFIX}${api}`, {
    app_id: app.appId,
    merchant_id: merchantId,
    timestamp: msText(deps),
    version: FENGNIAO_VERSION,
    access_token: token.value,
    business_data: businessData,
  });
}

/** A verified callback: its `business_data` string and that string parsed. */
export interface FengniaoCallback {
  businessData: string;
  fields: Record<string, unknown>;
}

/**
 * Verifies a callback (`{"app_id","timestamp","signature","business_data"}`): `app_id` must be the
 * app's and `signature` the SHA-256 of the secret and the sorted `app_id`, `business_data`,
 * `timestamp`. 401 otherwise (nothing is stored); 400 for a body that is not such an object.
 */
export function verifyFengniaoCallback(app: AppRecord, raw: string): FengniaoCallback {
  const secret = requireKind(app, 'fengniao');
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new AppError('BAD_REQUEST', 'body must be JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('BAD_REQUEST', 'body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  const appId = text(b.app_id);
  const timestamp = text(b.timestamp);
  const signature = text(b.signature);
  const businessData = b.business_data;
  if (
    appId === undefined ||
    timestamp === undefined ||
    signature === undefined ||
    typeof businessData !== 'string'
  ) {
    throw new AppError(
      'BAD_REQUEST',
      'body must carry app_id, timestamp, signature and business_data (a string)',
    );
  }
  if (appId !== app.appId) throw new AppError('UNAUTHORIZED', "app_id is not this app's");
  const expected = fengniaoSignature(secret, {
    app_id: appId,
    business_data: businessData,
    timestamp,
  });
  if (!sameSignature(expected, signature.toLowerCase())) {
    throw new AppError('UNAUTHORIZED', 'signature does not verify');
  }
  let fields: unknown;
  try {
    // 64-bit order ids arrive as bare numbers: read exactly.
    fields = parseExactJson(businessData);
  } catch {
    fields = undefined;
  }
  return {
    businessData,
    fields:
      typeof fields === 'object' && fields !== null && !Array.isArray(fields)
        ? (fields as Record<string, unknown>)
        : { business_data: businessData },
  };
}
