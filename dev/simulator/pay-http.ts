import { SIM_MARK_HEADER } from './errors';
import type { CallCounters, FaultBook, SimFault } from './faults';
import { waitFaultDelay } from './faults';
import { checkAuthorization, claimedMchId } from './pay-auth';
import type { PayTamper } from './pay-crypto';
import { newRequestId, signatureHeaders } from './pay-crypto';
import type { PayKeyMode } from './pay-keys';
import type { PayContext, PayReply, PayRequest } from './pay-routes';
import { failureReply, matchPayRoute } from './pay-routes';

/** What the `/v3/` pipeline needs besides the pay state. */
export interface PayHttpDeps {
  ctx: PayContext;
  counters: CallCounters;
  faults: FaultBook;
  /** The tamper queued for the next response, consumed. */
  takeTamper(): PayTamper | undefined;
}

/** Default status and message per WeChat Pay error code, for injected faults. */
const PAY_CODE_DEFAULTS: Readonly<Record<string, { status: number; message: string }>> = {
  SYSTEM_ERROR: { status: 500, message: '系统错误' },
  BANK_ERROR: { status: 500, message: '银行系统异常' },
  FREQUENCY_LIMITED: { status: 429, message: '频率超限' },
  SIGN_ERROR: { status: 401, message: '错误的签名，验签失败' },
  PARAM_ERROR: { status: 400, message: '参数错误' },
  INVALID_REQUEST: { status: 400, message: '无效请求' },
  NO_AUTH: { status: 403, message: '商户无权限' },
  NOT_ENOUGH: { status: 403, message: '余额不足' },
  ORDER_NOT_EXIST: { status: 404, message: '订单不存在' },
  RESOURCE_NOT_EXISTS: { status: 404, message: '资源不存在' },
};

/** The code WeChat Pay answers with a given status, for status-only faults. */
const STATUS_CODES: Readonly<Record<number, string>> = {
  400: 'PARAM_ERROR',
  401: 'SIGN_ERROR',
  403: 'NO_AUTH',
  404: 'RESOURCE_NOT_EXISTS',
  429: 'FREQUENCY_LIMITED',
};

/** Apply a fault on a pay path: wait, then a `{code, message}` reply, or undefined to go on. */
export async function payFaultReply(f: SimFault): Promise<PayReply | undefined> {
  await waitFaultDelay(f);
  if (f.code === undefined && f.status === undefined) return undefined;
  const code = f.code ?? STATUS_CODES[f.status ?? 500] ?? 'SYSTEM_ERROR';
  const defaults = PAY_CODE_DEFAULTS[code];
  const status = f.status ?? defaults?.status ?? 500;
  return failureReply({ status, code, message: f.errmsg ?? defaults?.message ?? '系统错误' });
}

/** Read what the pay handlers need from a fetch Request. */
async function toPayRequest(raw: Request): Promise<PayRequest> {
  const url = new URL(raw.url);
  const bodyless = raw.method === 'GET' || raw.method === 'HEAD';
  return {
    method: raw.method,
    path: url.pathname,
    pathWithQuery: `${url.pathname}${url.search}`,
    query: url.searchParams,
    body: bodyless ? '' : await raw.text(),
    headers: raw.headers,
  };
}

/** Route, authenticate and handle one request (no faults, no signing). */
function answer(req: PayRequest, ctx: PayContext): PayReply {
  const found = matchPayRoute(req.method, req.path);
  if (!found) {
    const message = `无法找到接口 ${req.method} ${req.path} (wxhub simulator: not a simulated WeChat Pay API)`;
    return { ...failureReply({ status: 404, code: 'NOT_FOUND', message }), unknownPath: true };
  }
  const signed = { ...req, authorization: req.headers.get('authorization') ?? undefined };
  const auth = checkAuthorization(signed, ctx.book.merchants, ctx.clock.now());
  if (!auth.ok) return { status: 401, body: auth.body };
  return found.route.handle(req, ctx, auth.merchant, found.params);
}

/**
 * Serve one `/v3/…` request: count it (attributed to the mchid it claims, when registered),
 * apply a queued fault, else check `Authorization` and run the endpoint; sign the answer.
 */
export async function handlePayRequest(raw: Request, deps: PayHttpDeps): Promise<Response> {
  const req = await toPayRequest(raw);
  const claimed = claimedMchId(req.headers.get('authorization') ?? undefined);
  const mchId = claimed !== undefined && deps.ctx.book.merchants.has(claimed) ? claimed : undefined;
  deps.counters.record(req.path, mchId);
  const fault = deps.faults.take(req.path, mchId);
  const reply = (fault ? await payFaultReply(fault) : undefined) ?? answer(req, deps.ctx);
  return signedResponse(reply, req, deps);
}

/** Public-key mode when the request asked for it with `Wechatpay-Serial: PUB_KEY_ID_…`. */
function responseKeyMode(req: PayRequest, ctx: PayContext): PayKeyMode {
  return req.headers.get('wechatpay-serial') === ctx.keys.publicKeyId ? 'publicKey' : 'certificate';
}

/** The reply as a Response signed the way WeChat Pay signs (204 included), maybe tampered. */
function signedResponse(reply: PayReply, req: PayRequest, deps: PayHttpDeps): Response {
  const { ctx } = deps;
  const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
  const signer = ctx.keys.signer(reply.keyMode ?? responseKeyMode(req, ctx));
  const headers: Record<string, string> = {
    ...signatureHeaders(signer, body, ctx.clock.now(), deps.takeTamper()),
    'Request-ID': newRequestId(),
  };
  if (body !== '') headers['Content-Type'] = 'application/json; charset=utf-8';
  if (reply.unknownPath === true) headers[SIM_MARK_HEADER] = 'unknown-path';
  return new Response(body === '' ? null : body, { status: reply.status, headers });
}
