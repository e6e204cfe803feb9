import { isBranded } from '../http/errors';
import { type Telemetry, upstreamCall } from '../metrics/telemetry';
import { causeOf, WechatTransportError } from '../wechat/http';

/**
 * One HTTP helper per delivery platform, modelled on shared/wechat/http.ts: a timeout is a 504
 * (`UPSTREAM_TIMEOUT`), an unreachable platform a 503, a non-2xx or unusable answer and an error
 * answered by the platform a 502 (`UPSTREAM_WECHAT`, the upstream-error code of the envelope).
 * Messages name the platform and the API path, never a URL or a parameter (they carry tokens).
 */

export type Platform = 'Fengniao' | 'Shansong';

export interface PlatformHttp {
  platform: Platform;
  baseUrl: string;
  fetch: typeof fetch;
  timeoutMs: number;
  /** Where each call is counted (`wxhub_upstream_calls_total`) and traced; none in some tests. */
  telemetry?: Telemetry;
}

const PLATFORM_TRANSPORT_ERROR = Symbol.for('wxhub.PlatformTransportError');

/**
 * The platform could not be reached, did not answer in time, or answered something unusable
 * (a {@link WechatTransportError}, so the credential manager backs off and the app's error handler
 * answers 502/503/504 as for WeChat).
 */
export class PlatformTransportError extends WechatTransportError {
  // Its own answer: WechatTransportError's would take every one of those for one of these.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, PLATFORM_TRANSPORT_ERROR);
  }
  readonly [PLATFORM_TRANSPORT_ERROR] = true;
  constructor(
    platform: Platform,
    api: string,
    message: string,
    status?: number,
    failure: 'unreachable' | 'timeout' | 'answer' = 'answer',
  ) {
    super(api, message, status, failure);
    this.message = `${platform} ${api}: ${message}`;
  }
}

/** The platform answered an error in its envelope (e.g. a refused signature): a 502. */
export function platformError(
  platform: Platform,
  api: string,
  code: string,
  msg: string,
): PlatformTransportError {
  // The platform's own text, cut short: it never carries what was sent.
  return new PlatformTransportError(platform, api, `answered code ${code}: ${msg.slice(0, 200)}`);
}

/** A platform's answer as received: status, content type, body text. */
export interface PlatformAnswer {
  status: number;
  contentType: string;
  text: string;
}

/**
 * POSTs `body` (a string: JSON or form-encoded; or FormData) to `{baseUrl}{api}` and reads the
 * answer within the timeout. Throws {@link PlatformTransportError} when unreachable or slow; the
 * status is the caller's to judge (the proxies pass it on as it is).
 */
export async function postPlatform(
  http: PlatformHttp,
  api: string,
  body: string | FormData,
  contentType?: string,
): Promise<PlatformAnswer> {
  const call = upstreamCall(http.telemetry, http.platform.toLowerCase(), api);
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new DOMException('timed out', 'TimeoutError')),
    http.timeoutMs,
  );
  try {
    const res = await http.fetch(`${http.baseUrl}${api}`, {
      method: 'POST',
      headers: contentType === undefined ? {} : { 'content-type': contentType },
      body,
      signal: abort.signal,
      redirect: 'manual',
    });
    const text = await res.text();
    // The platforms' own error codes are in their bodies, which the callers read: the status.
    call.end(res.status >= 200 && res.status < 300 ? 0 : `http_${res.status}`);
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text };
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    call.end(timedOut ? 'timeout' : 'unreachable');
    throw new PlatformTransportError(
      http.platform,
      api,
      timedOut ? `no answer within ${http.timeoutMs} ms` : `unreachable (${causeOf(err)})`,
      undefined,
      timedOut ? 'timeout' : 'unreachable',
    );
  } finally {
    clearTimeout(timer);
  }
}

/** A JSON object answer with a 2xx status, or a {@link PlatformTransportError}. */
export function jsonAnswer(
  http: Pick<PlatformHttp, 'platform'>,
  api: string,
  a: PlatformAnswer,
): Record<string, unknown> {
  if (a.status < 200 || a.status >= 300) {
    throw new PlatformTransportError(http.platform, api, `HTTP ${a.status}`, a.status);
  }
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    throw new PlatformTransportError(http.platform, api, 'answered a body that is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new PlatformTransportError(
      http.platform,
      api,
      'answered a JSON value that is not an object',
    );
  }
  return body as Record<string, unknown>;
}
