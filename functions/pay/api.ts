import * as v from 'valibot';
import type { ErrorCode } from '../../shared/http/errors';
import { declareRoute } from '../../shared/http/routes';
import {
  keyMessages,
  merchantParam,
  proxyPathParam,
  SECRET_ERRORS,
  text,
} from '../../shared/http/schemas';
import { parseExactJson } from '../../shared/wechat/exact-json';

/** Declarations of the pay function's routes (docs/api.md, "Internal routes"). */

/** Order and refund numbers as WeChat Pay accepts them (letters, digits, `_-|*@`). */
const TRADE_NO = /^[A-Za-z0-9_\-|*@]{1,64}$/;
const tradeNo = (what: string) =>
  v.pipe(
    v.string(`${what} is required`),
    v.regex(TRADE_NO, `${what} must be 1 to 64 letters, digits or _-|*@`),
  );

const OBJECT = 'body must be a JSON object';
const NOTIFY_URL = 'notify_url must be an http(s) URL without query';
const notifyUrl = v.optional(
  v.pipe(
    v.string(NOTIFY_URL),
    v.regex(/^https?:\/\/[^\s?#]+$/, NOTIFY_URL),
    v.description('default {WXHUB_PUBLIC_URL}/pay/{merchant}/notify'),
  ),
);

const ERRORS: readonly ErrorCode[] = [
  'NOT_FOUND',
  'BAD_REQUEST',
  ...SECRET_ERRORS,
  'UPSTREAM_WECHAT',
  'UNAVAILABLE',
];
const UPSTREAM: readonly ErrorCode[] = ['UPSTREAM_TIMEOUT'];
const MerchantParams = v.object({ merchant: merchantParam });
const WechatPayJson = v.pipe(v.looseObject({}), v.description("WeChat Pay's JSON, exact"));

const TOTAL = 'amount.total is required: a positive whole number of fen';
const OPENID = 'payer.openid is required';
const DESCRIPTION = 'description is required';

export const payJsapi = declareRoute({
  method: 'POST',
  path: '/v1/pay/{merchant}/jsapi',
  tag: 'pay',
  summary: 'A JSAPI / mini-program order with the client payment parameters',
  description: "WeChat Pay's order body without `mchid`; other fields pass through.",
  params: MerchantParams,
  body: v.looseObject(
    {
      appid: v.optional(text("default: the merchant's appId")),
      description: v.pipe(v.string(DESCRIPTION), v.nonEmpty(DESCRIPTION)),
      out_trade_no: tradeNo('out_trade_no'),
      amount: v.looseObject(
        { total: v.pipe(v.number(TOTAL), v.integer(TOTAL), v.minValue(1, TOTAL)) },
        TOTAL,
      ),
      payer: v.looseObject({ openid: v.pipe(v.string(OPENID), v.nonEmpty(OPENID)) }, OPENID),
      notify_url: notifyUrl,
    },
    keyMessages(OBJECT, {
      description: DESCRIPTION,
      out_trade_no: 'out_trade_no is required',
      amount: TOTAL,
      payer: OPENID,
    }),
  ),
  // Read exactly: a 64-bit number in a caller's body reaches WeChat Pay digit for digit.
  bodyJson: parseExactJson,
  responses: {
    200: {
      description: 'the prepay id and what wx.requestPayment takes',
      schema: v.object({
        prepayId: v.string(),
        payParams: v.object({
          appId: v.string(),
          timeStamp: v.string(),
          nonceStr: v.string(),
          package: v.string(),
          signType: v.literal('RSA'),
          paySign: v.string(),
        }),
      }),
    },
  },
  errors: [...ERRORS, ...UPSTREAM],
});

export const payTransaction = declareRoute({
  method: 'GET',
  path: '/v1/pay/{merchant}/transactions/{outTradeNo}',
  tag: 'pay',
  summary: 'Query an order by out_trade_no',
  params: v.object({ merchant: merchantParam, outTradeNo: tradeNo('out_trade_no') }),
  responses: { 200: { description: "WeChat Pay's transaction", schema: WechatPayJson } },
  errors: [...ERRORS, ...UPSTREAM],
});

export const payClose = declareRoute({
  method: 'POST',
  path: '/v1/pay/{merchant}/transactions/{outTradeNo}/close',
  tag: 'pay',
  summary: 'Close an order',
  params: v.object({ merchant: merchantParam, outTradeNo: tradeNo('out_trade_no') }),
  responses: { 204: { description: 'closed' } },
  errors: [...ERRORS, ...UPSTREAM],
});

const REFUND_AMOUNT = 'amount.refund and amount.total are required (fen)';
const fen = v.pipe(v.number(REFUND_AMOUNT), v.integer(REFUND_AMOUNT));

export const payRefund = declareRoute({
  method: 'POST',
  path: '/v1/pay/{merchant}/refunds',
  tag: 'pay',
  summary: 'Request a refund',
  description: "WeChat Pay's refund body; other fields pass through.",
  params: MerchantParams,
  body: v.pipe(
    v.looseObject(
      {
        out_refund_no: tradeNo('out_refund_no'),
        out_trade_no: v.optional(v.string()),
        transaction_id: v.optional(v.string()),
        amount: v.looseObject({ refund: fen, total: fen }, REFUND_AMOUNT),
        notify_url: notifyUrl,
      },
      keyMessages(OBJECT, {
        out_refund_no: 'out_refund_no is required',
        amount: REFUND_AMOUNT,
      }),
    ),
    v.check(
      (b) => b.out_trade_no !== undefined || b.transaction_id !== undefined,
      'out_trade_no or transaction_id is required',
    ),
  ),
  // Read exactly: a 64-bit number in a caller's body reaches WeChat Pay digit for digit.
  bodyJson: parseExactJson,
  responses: { 200: { description: "WeChat Pay's refund", schema: WechatPayJson } },
  errors: [...ERRORS, ...UPSTREAM],
});

export const payRefundGet = declareRoute({
  method: 'GET',
  path: '/v1/pay/{merchant}/refunds/{outRefundNo}',
  tag: 'pay',
  summary: 'Query a refund by out_refund_no',
  params: v.object({ merchant: merchantParam, outRefundNo: tradeNo('out_refund_no') }),
  responses: { 200: { description: "WeChat Pay's refund", schema: WechatPayJson } },
  errors: [...ERRORS, ...UPSTREAM],
});

export const payProxy = declareRoute({
  method: 'ANY',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  path: '/v1/pay/{merchant}/proxy/{path}',
  wildcard: 'path',
  tag: 'pay',
  summary: 'Any WeChat Pay v3 call, signed, its answer verified',
  description:
    'Signed and forwarded to `WECHATPAY_API_BASE/v3/{path}` (the path starts with `v3/`); ' +
    "the answer's signature checked.",
  params: v.object({ merchant: merchantParam, path: proxyPathParam }),
  rawBody: 'forwarded as it is',
  responses: {
    200: {
      description: "WeChat Pay's status, content type and bytes",
      contentType: '*/*',
      headers: {
        'x-wxhub-verified': '1 when the answer is signed by WeChat Pay; 0 only for a non-2xx',
        'request-id': "WeChat Pay's request id",
      },
    },
  },
  errors: [...ERRORS, ...UPSTREAM],
});

export const PAY_ROUTES = [payJsapi, payTransaction, payClose, payRefund, payRefundGet, payProxy];
