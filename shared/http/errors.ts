/** Error codes of the JSON envelope (docs/api.md) and their HTTP status. */
export const CODE_TO_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  /** Console login: unknown user or wrong password (the same answer for both). */
  BAD_LOGIN: 401,
  FORBIDDEN: 403,
  /** A console write without the session's CSRF token or from another origin. */
  CSRF: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  /** `decrypt`: the hub holds no session key for that user (no `login` yet). */
  NO_SESSION: 409,
  /** `decrypt`: `encryptedData` does not decrypt with the held session key (padding, text, JSON). */
  DECRYPT_FAILED: 400,
  /** `decrypt`: the plaintext's `watermark` names another appid, or has no timestamp. */
  WATERMARK_MISMATCH: 400,
  /** A third-party platform has no usable component_verify_ticket yet (WeChat pushes one). */
  NO_TICKET: 409,
  /**
   * WeChat's 43101 on a subscribe message: the user refused the template or has no one-time
   * subscription left. The request was fine; the user's state forbids it until they subscribe
   * again (a retry fails the same way), hence 409 and not a 502. Carries `errcode`.
   */
  SUBSCRIPTION_REFUSED: 409,
  /** A third-party platform's authorizer revoked its authorization (`unauthorized`). */
  REVOKED: 410,
  /** An SMS verification code that is wrong, expired, used, replaced or out of tries. */
  CODE_INVALID: 400,
  /** A single-use value (an OAuth `wxhub_ticket`) was used already or expired. */
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  /** A console write whose body is not declared `content-type: application/json`. */
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  /** Console login: too many failures for that user name lately; try again later. */
  LOCKED: 429,
  INTERNAL: 500,
  UPSTREAM_WECHAT: 502,
  UNAVAILABLE: 503,
  /** A stored secret is sealed under a key id no longer configured (README, Secrets at rest). */
  SECRET_KEY_UNKNOWN: 503,
  /** A stored secret does not authenticate under its key (altered or copied). */
  SECRET_UNREADABLE: 503,
  UPSTREAM_TIMEOUT: 504,
} as const;
export type ErrorCode = keyof typeof CODE_TO_STATUS;

/**
 * `instanceof` for an error class that answers for every copy of it: an SCF package bundles
 * some modules into more than one of its files (`index.js`, the dialect's `sqlite.js` or
 * `mysql.js`, a lazily loaded file), and an error thrown by one file's copy must still be
 * recognised by the app's error handler in another. Instances carry `Symbol.for(brand)`.
 */
export function isBranded(value: unknown, brand: symbol): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[brand] === true
  );
}

const APP_ERROR = Symbol.for('wxhub.AppError');
const WECHAT_API_ERROR = Symbol.for('wxhub.WechatApiError');

/**
 * The one error class for expected failures. Its message is shown to the caller, so it must not
 * carry secrets or internals. Recognised across the files of a bundle ({@link isBranded}).
 *
 * @example throw new AppError('NOT_FOUND', 'no app named "shop"');
 */
export class AppError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, APP_ERROR);
  }
  readonly [APP_ERROR] = true;
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
  get status(): number {
    return CODE_TO_STATUS[this.code];
  }
}

/**
 * WeChat answered `errcode ≠ 0` (even on HTTP 200). `errmsg` is WeChat's text, kept for the
 * caller (40164 names the IP WeChat saw). Other platforms' API errors use it too, with their own
 * `label` (Douyin: `Douyin err_no`), so every route maps them the same way (502, `errcode`).
 */
export class WechatApiError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, WECHAT_API_ERROR);
  }
  readonly [WECHAT_API_ERROR] = true;
  override name = 'WechatApiError';
  constructor(
    readonly api: string,
    readonly errcode: number,
    readonly errmsg: string,
    /** How the answer names its code, for messages: `WeChat errcode`, `Douyin err_no`. */
    readonly label = 'WeChat errcode',
  ) {
    super(`${label.replace(' ', ` ${api} `)} ${errcode}: ${errmsg}`);
  }
}

/** The JSON error body of every internal route. */
export function errorBody(code: ErrorCode, message: string, requestId: string, extra = {}) {
  return { error: { code, message, requestId, ...extra } };
}
