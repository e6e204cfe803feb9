import { z } from 'zod';
import type { SimClock } from './clock';
import type { PayBook, PayFailure, SimMerchant } from './pay-book';
import { AEAD_ALGORITHM, aeadEncrypt, newAeadNonce, rfc3339Cst } from './pay-crypto';
import type { PayKeyMode, PayKeys } from './pay-keys';
import { refundView, transactionView } from './pay-views';

/** A `/v3/…` request as the simulator sees it. */
export interface PayRequest {
  method: string;
  /** Path without query (the counter and fault key). */
  path: string;
  /** Path plus `?query` exactly as sent (what the signature covers). */
  pathWithQuery: string;
  query: URLSearchParams;
  body: string;
  headers: Headers;
}

/** What to answer: a status and a JSON body (none for 204). */
export interface PayReply {
  status: number;
  body?: unknown;
  /** Sign with this key whatever the request's `Wechatpay-Serial` says. */
  keyMode?: PayKeyMode;
  /** Set on the answer to a path the simulator does not play (the `x-wxhub-simulator` header). */
  unknownPath?: boolean;
}

/** Simulator state the pay handlers work on. */
export interface PayContext {
  book: PayBook;
  keys: PayKeys;
  clock: SimClock;
}

/** One `/v3/` endpoint; `params` are the pattern's capture groups, URI-decoded. */
export interface PayRoute {
  method: 'GET' | 'POST';
  pattern: RegExp;
  handle(req: PayRequest, ctx: PayContext, merchant: SimMerchant, params: string[]): PayReply;
}

const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;
// WeChat requires https; plain http is accepted so local tests can receive notifications.
const NOTIFY_URL = /^https?:\/\/[^\s?#]+$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const jsapiSchema = z.object({
  appid: z.string().min(1).max(32),
  mchid: z.string().min(1).max(32),
  description: z.string().min(1).max(127),
  out_trade_no: z.string().regex(OUT_TRADE_NO, '6-32位数字、字母、_-|*'),
  time_expire: z.string().regex(RFC3339, 'rfc3339格式').optional(),
  attach: z.string().max(128).optional(),
  notify_url: z.string().regex(NOTIFY_URL, '不带查询串的http(s)地址'),
  amount: z.object({ total: z.number().int().min(1), currency: z.literal('CNY').optional() }),
  payer: z.object({ openid: z.string().min(1).max(128) }),
});

const closeSchema = z.object({ mchid: z.string().min(1) });

const refundSchema = z
  .object({
    transaction_id: z.string().min(1).max(32).optional(),
    out_trade_no: z.string().regex(OUT_TRADE_NO).optional(),
    out_refund_no: z.string().regex(OUT_REFUND_NO, '1-64位数字、字母、_-|*@'),
    reason: z.string().max(80).optional(),
    notify_url: z.string().regex(NOTIFY_URL, '不带查询串的http(s)地址').optional(),
    amount: z.object({
      refund: z.number().int().min(1),
      total: z.number().int().min(1),
      currency: z.literal('CNY'),
    }),
  })
  .refine((b) => b.transaction_id !== undefined || b.out_trade_no !== undefined, {
    message: 'transaction_id和out_trade_no必须二选一',
    path: ['out_trade_no'],
  });

/** A WeChat Pay error reply. */
export function failureReply(f: PayFailure): PayReply {
  return { status: f.status, body: { code: f.code, message: f.message } };
}

const paramError = (message: string) => failureReply({ status: 400, code: 'PARAM_ERROR', message });

/** Parse and validate a JSON body; the value, or a 400 PARAM_ERROR reply. */
function readJson<T>(body: string, schema: z.ZodType<T>): { value: T } | { reply: PayReply } {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { reply: paramError('请求体不是合法的JSON') };
  }
  const result = schema.safeParse(raw);
  if (result.success) return { value: result.data };
  const issue = result.error.issues[0];
  const where = issue ? `/body/${issue.path.join('/')}` : '/body';
  return { reply: paramError(`输入源“${where}”校验失败：${issue?.message ?? '格式错误'}`) };
}

/** The `mchid` a caller names must be the one that signed the request. */
function sameMerchant(mchid: string | null, merchant: SimMerchant): PayReply | undefined {
  if (mchid === null || mchid === '') return paramError('缺少参数mchid');
  if (mchid !== merchant.mchId) return paramError('mchid与请求签名的商户号不一致');
  return undefined;
}

const ok = (body: unknown): PayReply => ({ status: 200, body });
const orderNotFound = () =>
  failureReply({ status: 404, code: 'ORDER_NOT_EXIST', message: '订单不存在' });

const jsapi: PayRoute = {
  method: 'POST',
  pattern: /^\/v3\/pay\/transactions\/jsapi$/,
  handle(req, ctx, merchant) {
    const parsed = readJson(req.body, jsapiSchema);
    if ('reply' in parsed) return parsed.reply;
    const mismatch = sameMerchant(parsed.value.mchid, merchant);
    if (mismatch) return mismatch;
    const result = ctx.book.createOrder(parsed.value, ctx.clock.now());
    return result.ok ? ok({ prepay_id: result.value.prepayId }) : failureReply(result.failure);
  },
};

const queryByOutTradeNo: PayRoute = {
  method: 'GET',
  pattern: /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/,
  handle(req, ctx, merchant, [outTradeNo = '']) {
    const mismatch = sameMerchant(req.query.get('mchid'), merchant);
    if (mismatch) return mismatch;
    const order = ctx.book.order(merchant.mchId, outTradeNo);
    return order ? ok(transactionView(order)) : orderNotFound();
  },
};

const queryByTransactionId: PayRoute = {
  method: 'GET',
  pattern: /^\/v3\/pay\/transactions\/id\/([^/]+)$/,
  handle(req, ctx, merchant, [transactionId = '']) {
    const mismatch = sameMerchant(req.query.get('mchid'), merchant);
    if (mismatch) return mismatch;
    const order = ctx.book.orderByTransactionId(merchant.mchId, transactionId);
    return order ? ok(transactionView(order)) : orderNotFound();
  },
};

const closeOrder: PayRoute = {
  method: 'POST',
  pattern: /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)\/close$/,
  handle(req, ctx, merchant, [outTradeNo = '']) {
    const parsed = readJson(req.body, closeSchema);
    if ('reply' in parsed) return parsed.reply;
    const mismatch = sameMerchant(parsed.value.mchid, merchant);
    if (mismatch) return mismatch;
    const result = ctx.book.closeOrder(merchant.mchId, outTradeNo);
    return result.ok ? { status: 204 } : failureReply(result.failure);
  },
};

const applyRefund: PayRoute = {
  method: 'POST',
  pattern: /^\/v3\/refund\/domestic\/refunds$/,
  handle(req, ctx, merchant) {
    const parsed = readJson(req.body, refundSchema);
    if ('reply' in parsed) return parsed.reply;
    const result = ctx.book.createRefund(merchant.mchId, parsed.value, ctx.clock.now());
    return result.ok ? ok(refundView(result.value)) : failureReply(result.failure);
  },
};

const queryRefund: PayRoute = {
  method: 'GET',
  pattern: /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/,
  handle(_req, ctx, merchant, [outRefundNo = '']) {
    const refund = ctx.book.refund(merchant.mchId, outRefundNo);
    if (refund) return ok(refundView(refund));
    return failureReply({ status: 404, code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' });
  },
};

const certificates: PayRoute = {
  method: 'GET',
  pattern: /^\/v3\/certificates$/,
  handle(_req, ctx, merchant) {
    const data = ctx.keys.certificates().map((cert) => {
      const nonce = newAeadNonce();
      const associated = 'certificate';
      return {
        serial_no: cert.serialNo,
        effective_time: rfc3339Cst(cert.notBefore),
        expire_time: rfc3339Cst(cert.notAfter),
        encrypt_certificate: {
          algorithm: AEAD_ALGORITHM,
          nonce,
          associated_data: associated,
          ciphertext: aeadEncrypt(merchant.apiV3Key, nonce, associated, cert.pem),
        },
      };
    });
    // Always signed by a platform certificate, so the download can verify itself.
    return { status: 200, body: { data }, keyMode: 'certificate' };
  },
};

/** Every simulated `/v3/` endpoint. */
export const PAY_ROUTES: readonly PayRoute[] = [
  jsapi,
  queryByOutTradeNo,
  queryByTransactionId,
  closeOrder,
  applyRefund,
  queryRefund,
  certificates,
];

/** The route serving `method path`, with its decoded parameters. */
export function matchPayRoute(
  method: string,
  path: string,
): { route: PayRoute; params: string[] } | undefined {
  for (const route of PAY_ROUTES) {
    const match = route.method === method ? route.pattern.exec(path) : null;
    if (match) return { route, params: match.slice(1).map(safeDecode) };
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
