import { isBranded, WechatApiError } from '../http/errors';
import { type Telemetry, upstreamCall } from '../metrics/telemetry';

const TRANSPORT_ERROR = Symbol.for('wxhub.WechatTransportError');

/**
 * WeChat could not be reached (connection refused, DNS, TLS), did not answer in time, or answered
 * a non-2xx status or a body that is not a JSON object: transient, retry later.
 */
export class WechatTransportError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, TRANSPORT_ERROR);
  }
  readonly [TRANSPORT_ERROR] = true;
  override name = 'WechatTransportError';
  constructor(
    readonly api: string,
    message: string,
    readonly status?: number,
    /** `answer`: WeChat answered, but not usably (non-2xx, not JSON, fields missing). */
    readonly failure: 'unreachable' | 'timeout' | 'answer' = 'answer',
  ) {
    super(`WeChat ${api}: ${message}`);
  }
}

/**
 * The envelope code of a transport failure (README, error table): 504 `UPSTREAM_TIMEOUT` when
 * WeChat did not answer in time, 502 `UPSTREAM_WECHAT` when it answered something unusable, 503
 * `UNAVAILABLE` when it could not be reached at all.
 */
export function transportErrorCode(
  err: WechatTransportError,
): 'UPSTREAM_TIMEOUT' | 'UPSTREAM_WECHAT' | 'UNAVAILABLE' {
  if (err.failure === 'timeout') return 'UPSTREAM_TIMEOUT';
  return err.failure === 'unreachable' ? 'UNAVAILABLE' : 'UPSTREAM_WECHAT';
}

export interface WechatHttp {
  baseUrl: string;
  fetch: typeof fetch;
  timeoutMs: number;
  /** Where each call is counted (`wxhub_upstream_calls_total`) and traced; none in some tests. */
  telemetry?: Telemetry;
  /** The `platform` label of its calls: `wechat` unless said (`wechatpay`). */
  platform?: string;
}

/**
 * Calls a WeChat JSON API and returns the parsed body; `errcode ≠ 0` becomes a
 * {@link WechatApiError}, a network failure, timeout or non-2xx a {@link WechatTransportError}.
 * `api` is the path used in messages — never the URL, which may carry a secret.
 */
export async function callWechatJson<T>(
  http: WechatHttp,
  api: string,
  query: Record<string, string>,
  init: {
    method?: 'GET' | 'POST';
    json?: unknown;
    /** Another platform's error envelope (Douyin's `err_no`); WeChat's `errcode` by default. */
    errorOf?: (api: string, body: Record<string, unknown>) => WechatApiError | undefined;
  } = {},
): Promise<T> {
  const url = `${http.baseUrl}${api}?${new URLSearchParams(query).toString()}`;
  const call = upstreamCall(http.telemetry, http.platform ?? 'wechat', api);
  let res: Response;
  let text: string;
  // A timer cleared once the answer is read: `AbortSignal.timeout` would keep each call's
  // request and response reachable until its timeout, which, over thousands of calls in one
  // refresh pass, is tens of MiB of heap that is live for nothing.
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new DOMException('timed out', 'TimeoutError')),
    http.timeoutMs,
  );
  try {
    res = await http.fetch(url, {
      method: init.method ?? 'GET',
      headers: init.json === undefined ? {} : { 'content-type': 'application/json' },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: abort.signal,
    });
    // Inside the try: the timeout also covers a body that stops arriving.
    text = await res.text();
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    call.end(timedOut ? 'timeout' : 'unreachable');
    throw new WechatTransportError(
      api,
      timedOut ? `no answer within ${http.timeoutMs} ms` : `unreachable (${causeOf(err)})`,
      undefined,
      timedOut ? 'timeout' : 'unreachable',
    );
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) {
    call.end(`http_${res.status}`);
    throw new WechatTransportError(api, `HTTP ${res.status}`, res.status);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    call.end('bad_answer');
    throw new WechatTransportError(api, 'answered a body that is not JSON', res.status);
  }
  if (typeof body !== 'object' || body === null) {
    call.end('bad_answer');
    throw new WechatTransportError(api, 'answered a JSON value that is not an object', res.status);
  }
  const error = (init.errorOf ?? wechatError)(api, body as Record<string, unknown>);
  if (error !== undefined) {
    call.end(error.errcode);
    throw error;
  }
  call.end(0);
  return body as T;
}

/**
 * Why a fetch failed, from undici's `cause` (e.g. `ECONNREFUSED`, `ENOTFOUND`, a TLS code): a
 * code only, never the URL, which may carry a secret.
 */
export function causeOf(err: unknown): string {
  const cause = err instanceof Error ? (err as { cause?: unknown }).cause : undefined;
  const code =
    typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : '';
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'network error';
}

/** WeChat's `errcode ≠ 0` as a {@link WechatApiError}. */
function wechatError(api: string, body: Record<string, unknown>): WechatApiError | undefined {
  const { errcode, errmsg } = body;
  if (typeof errcode !== 'number' || errcode === 0) return undefined;
  return new WechatApiError(api, errcode, typeof errmsg === 'string' ? errmsg : '');
}
