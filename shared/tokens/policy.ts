import { WechatApiError } from '../http/errors';

/** Errcodes that mean "configuration is wrong": record and surface, do not hammer WeChat. */
export const CONFIG_ERRCODES = new Set([
  40002, 40013, 40125, 40164, 41002, 41004, 61024, 40001,
  // An authorizer's refresh token that api_get_authorizer_list could not replace.
  61023,
  // Douyin's token endpoint: bad appid, bad secret (WeChat never answers these on its token
  // endpoints; https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/interface-request-credential/non-user-authorization/get-access-token).
  40015, 40017,
]);

/** Transient-failure backoff: 30 s doubling to 30 min. Configuration errors wait 30 min. */
export function nextAttemptDelayMs(err: unknown, failures: number): number {
  if (isConfigError(err)) return 30 * 60_000;
  return Math.min(30_000 * 2 ** Math.max(0, failures), 30 * 60_000);
}

/**
 * True for errors a retry cannot fix. 40001 from a *token endpoint* means a wrong AppSecret
 * (https://developers.weixin.qq.com/doc/channels/API/basics/commErrCode.html), not a stale token.
 */
export function isConfigError(err: unknown): boolean {
  return err instanceof WechatApiError && CONFIG_ERRCODES.has(err.errcode);
}

/** True for a stored {@link describeRefreshError} line of a configuration error. */
export function isConfigErrorMessage(message: string): boolean {
  const m = /^errcode (-?\d+):/.exec(message);
  return m !== null && CONFIG_ERRCODES.has(Number(m[1]));
}

/** A one-line description safe to store and return: WeChat's errcode and message, no secrets. */
export function describeRefreshError(err: unknown): string {
  if (err instanceof WechatApiError) {
    const hint = HINTS[err.errcode];
    return `errcode ${err.errcode}: ${err.errmsg}${hint ? ` (${hint})` : ''}`;
  }
  // A failed query's message carries its SQL and parameters (sealed values): only the driver's
  // error code is kept (e.g. ER_LOCK_DEADLOCK, SQLITE_BUSY).
  if (isFailedQuery(err)) return `database error (${driverCode(err.cause)})`;
  if (err instanceof Error) return err.message;
  return 'unknown error';
}

/**
 * Drizzle's `DrizzleQueryError`, recognised by its shape: importing drizzle here would load it in
 * every function's entry, before any database is opened.
 */
function isFailedQuery(err: unknown): err is Error & { query: string; params: unknown[] } {
  return (
    err instanceof Error &&
    'query' in err &&
    typeof err.query === 'string' &&
    'params' in err &&
    Array.isArray(err.params)
  );
}

function driverCode(cause: unknown): string {
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : '';
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'see the logs';
}

const HINTS: Record<number, string> = {
  40125: 'the appSecret is wrong',
  40001: 'the appSecret is wrong or was reset',
  40013: 'the appId is wrong',
  40164: "add the IP WeChat saw to the account's IP whitelist",
  61024: 'a third-party platform must use component tokens',
};
