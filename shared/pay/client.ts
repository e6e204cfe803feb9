import type { KeyObject } from 'node:crypto';
import type { Clock } from '../clock';
import { AppError } from '../http/errors';
import { upstreamCall } from '../metrics/telemetry';
import { parseExactJson, stringifyExactJson } from '../wechat/exact-json';
import type { WechatHttp } from '../wechat/http';
import {
  authorization,
  nonceStr,
  type RequestSigner,
  SIGNTEST_PREFIX,
  verifyLines,
} from './crypto';

/** What the signed client needs of a merchant. */
export interface PayCaller extends RequestSigner {
  /**
   * Sent as `Wechatpay-Serial` so that WeChat Pay signs its answers with the public key
   * (https://developers.weixin.qq.com/community/develop/doc/0004e8c40b09182972936db6d69400).
   */
  publicKeyId: string | undefined;
}

/** Finds the key named by a `Wechatpay-Serial`; undefined when the serial is unknown. */
export type VerifierLookup = (serial: string) => Promise<KeyObject | undefined>;

export interface PayCallContext {
  http: WechatHttp;
  clock: Clock;
  caller: PayCaller;
  verifier: VerifierLookup;
}

/**
 * A WeChat Pay answer whose signature was checked (or that was not 2xx and carried none, or whose
 * check the caller does itself: `verify: false`).
 */
export interface PayResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** False only for a non-2xx answer without signature headers (e.g. a gateway error page). */
  verified: boolean;
}

/**
 * The response signature headers, lower-case
 * (https://pay.weixin.qq.com/docs/merchant/development/interface-rules/build-verify-sign-src.html).
 */
export const PAY_SIGNATURE_HEADERS = [
  'wechatpay-timestamp',
  'wechatpay-nonce',
  'wechatpay-signature',
  'wechatpay-serial',
] as const;

/**
 * Calls WeChat Pay API v3 with a signed `Authorization` header and checks the answer's signature
 * with the key its `Wechatpay-Serial` names. A 2xx answer without a signature, or any answer
 * whose signature does not verify, is refused (502): it cannot be told from a forgery.
 *
 * @param pathWithQuery e.g. `/v3/pay/transactions/out-trade-no/T1?mchid=1900000001`
 */
export async function payCall(
  ctx: PayCallContext,
  method: string,
  pathWithQuery: string,
  body?: string,
  opts: { headers?: Record<string, string>; verify?: boolean } = {},
): Promise<PayResponse> {
  const text = body ?? '';
  const timestamp = Math.floor(ctx.clock.now() / 1000);
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': 'wxhub',
    ...opts.headers,
    authorization: authorization(ctx.caller, method, pathWithQuery, text, timestamp, nonceStr()),
  };
  if (ctx.caller.publicKeyId !== undefined) headers['wechatpay-serial'] = ctx.caller.publicKeyId;
  if (body !== undefined && headers['content-type'] === undefined) {
    headers['content-type'] = 'application/json';
  }
  const api = pathWithQuery.split('?')[0] ?? pathWithQuery;
  const call = upstreamCall(ctx.http.telemetry, ctx.http.platform ?? 'wechatpay', apiLabel(api));
  let res: Response;
  try {
    res = await ctx.http.fetch(`${ctx.http.baseUrl}${pathWithQuery}`, {
      method,
      headers,
      body: body === undefined ? undefined : text,
      signal: AbortSignal.timeout(ctx.http.timeoutMs),
      redirect: 'manual',
    });
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    call.end(timedOut ? 'timeout' : 'unreachable');
    if (timedOut) {
      throw new AppError(
        'UPSTREAM_TIMEOUT',
        `WeChat Pay ${api} did not answer within ${ctx.http.timeoutMs} ms`,
      );
    }
    // Connection refused, DNS, TLS: WeChat Pay is down for us, not answering an error (503).
    throw new AppError('UNAVAILABLE', `WeChat Pay ${api} is unreachable`);
  }
  call.end(res.ok ? 0 : `http_${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const verified = opts.verify === false ? false : await checkResponse(ctx, api, res, bytes);
  return { status: res.status, headers: res.headers, body: bytes, verified };
}

/**
 * The API's path as a metrics label: a segment that names one order, refund or bill (it has a
 * digit, or is long) becomes `{id}`, so `/v3/pay/transactions/out-trade-no/T1` is one series.
 */
export function apiLabel(path: string): string {
  return path
    .split('/')
    .map((seg) => ((/\d/.test(seg) && !/^v\d$/.test(seg)) || seg.length > 40 ? '{id}' : seg))
    .join('/');
}

async function checkResponse(
  ctx: PayCallContext,
  api: string,
  res: Response,
  body: Buffer,
): Promise<boolean> {
  const [timestamp, nonce, signature, serial] = PAY_SIGNATURE_HEADERS.map((h) =>
    res.headers.get(h),
  );
  const ok = res.status >= 200 && res.status < 300;
  if (timestamp == null || nonce == null || signature == null || serial == null) {
    if (!ok) return false;
    throw new AppError(
      'UPSTREAM_WECHAT',
      `WeChat Pay ${api} answered ${res.status} without a signature; refused as forged`,
    );
  }
  if (signature.startsWith(SIGNTEST_PREFIX)) {
    throw new AppError(
      'UPSTREAM_WECHAT',
      `WeChat Pay ${api} answered a signature probe (${SIGNTEST_PREFIX}); refused`,
    );
  }
  const key = await ctx.verifier(serial);
  if (key === undefined) {
    throw new AppError(
      'UPSTREAM_WECHAT',
      `WeChat Pay ${api} signed with unknown serial ${serial.slice(0, 64)}; configure its public key or certificate`,
    );
  }
  if (!verifyLines(key, [timestamp, nonce, body], signature)) {
    throw new AppError(
      'UPSTREAM_WECHAT',
      `WeChat Pay ${api} answered with a signature that does not verify; refused`,
    );
  }
  return true;
}

/** A WeChat Pay error answer (`{"code","message"}`) as a 502 naming WeChat Pay's status and code. */
export function payErrorOf(api: string, res: PayResponse): AppError {
  let code = `HTTP_${res.status}`;
  let message = '';
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === 'string') code = parsed.code;
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not JSON (a gateway page): the status says it all.
  }
  return new AppError(
    'UPSTREAM_WECHAT',
    `WeChat Pay ${api} answered ${res.status} ${code}${message ? `: ${message}` : ''}`,
    { upstream: { status: res.status, code, message } },
  );
}

/**
 * A JSON call: the parsed answer of a 2xx (undefined for 204), a 502 {@link payErrorOf} otherwise.
 */
export async function payJson<T>(
  ctx: PayCallContext,
  method: 'GET' | 'POST',
  pathWithQuery: string,
  json?: unknown,
): Promise<T | undefined> {
  const res = await payCall(
    ctx,
    method,
    pathWithQuery,
    json === undefined ? undefined : stringifyExactJson(json),
  );
  const api = pathWithQuery.split('?')[0] ?? pathWithQuery;
  if (res.status < 200 || res.status >= 300) throw payErrorOf(api, res);
  if (res.status === 204 || res.body.length === 0) return undefined;
  try {
    return parseExactJson(res.body.toString('utf8')) as T;
  } catch {
    throw new AppError('UPSTREAM_WECHAT', `WeChat Pay ${api} answered a body that is not JSON`);
  }
}
