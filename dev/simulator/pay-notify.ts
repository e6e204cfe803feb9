import { z } from 'zod';
import type { SimClock } from './clock';
import { randomAlnum } from './ids';
import type { PayBook, RefundStatus, SimMerchant } from './pay-book';
import {
  AEAD_ALGORITHM,
  aeadEncrypt,
  newAeadNonce,
  newNotificationId,
  newRefundId,
  newTransactionId,
  PAY_TAMPERS,
  type PayTamper,
  rfc3339Cst,
  signatureHeaders,
} from './pay-crypto';
import type { PayKeyMode, PayKeys } from './pay-keys';
import { refundNoticeView, transactionView } from './pay-views';

/** Notification event types the simulator sends. */
export const PAY_EVENT_TYPES = [
  'TRANSACTION.SUCCESS',
  'REFUND.SUCCESS',
  'REFUND.ABNORMAL',
  'REFUND.CLOSED',
] as const;
/** One of {@link PAY_EVENT_TYPES}. */
export type PayEventType = (typeof PAY_EVENT_TYPES)[number];

/** appid of synthetic transactions (when no stored order is named). */
export const SYNTHETIC_APPID = 'wx0000000000000000';
/** Payer openid of synthetic transactions. */
export const SYNTHETIC_OPENID = 'o_sim_payer';

/** What {@link buildNotification} sends. */
export interface PayNotificationOptions {
  mchId: string;
  eventType: PayEventType;
  /** Plaintext resource; default: the stored order/refund named below, else a synthetic one. */
  resource?: Record<string, unknown>;
  outTradeNo?: string;
  outRefundNo?: string;
  /** Key that signs; default: the merchant's `mode`. */
  keyMode?: PayKeyMode;
  /** Notification id; default a fresh uuid. */
  id?: string;
  /** Spoil the signature, to test that the receiver verifies. */
  tamper?: PayTamper;
}

/** Validation schema for {@link PayNotificationOptions}. */
export const payNotificationSchema = z.strictObject({
  mchId: z.string().min(1, 'mchId must be a non-empty string'),
  eventType: z.enum(PAY_EVENT_TYPES),
  resource: z.record(z.string(), z.unknown()).optional(),
  outTradeNo: z.string().min(1).optional(),
  outRefundNo: z.string().min(1).optional(),
  keyMode: z.enum(['publicKey', 'certificate']).optional(),
  id: z.string().min(1).optional(),
  tamper: z.enum(PAY_TAMPERS).optional(),
});

/** A notification exactly as WeChat Pay POSTs it. */
export interface PayNotification {
  headers: Record<string, string>;
  /** Raw JSON body; the signature covers these exact bytes. */
  body: string;
}

/** Pay state a notification is built from. */
export interface NotifyDeps {
  book: PayBook;
  keys: PayKeys;
  clock: SimClock;
}

const REFUND_EVENT_STATUS: Readonly<
  Record<Exclude<PayEventType, 'TRANSACTION.SUCCESS'>, RefundStatus>
> = {
  'REFUND.SUCCESS': 'SUCCESS',
  'REFUND.ABNORMAL': 'ABNORMAL',
  'REFUND.CLOSED': 'CLOSED',
};

const SUMMARIES: Readonly<Record<PayEventType, string>> = {
  'TRANSACTION.SUCCESS': '支付成功',
  'REFUND.SUCCESS': '退款成功',
  'REFUND.ABNORMAL': '退款异常',
  'REFUND.CLOSED': '退款关闭',
};

/**
 * Build a signed, encrypted notification for a registered merchant.
 * Throws for an unknown merchant or a `TRANSACTION.SUCCESS` about a stored order not yet paid.
 */
export function buildNotification(
  input: PayNotificationOptions,
  deps: NotifyDeps,
): PayNotification {
  const opts = payNotificationSchema.parse(input);
  const merchant = deps.book.merchants.get(opts.mchId);
  if (!merchant) throw new Error(`unknown mchId ${opts.mchId}: register the merchant first`);
  const now = deps.clock.now();
  const originalType = opts.eventType === 'TRANSACTION.SUCCESS' ? 'transaction' : 'refund';
  const resource = opts.resource ?? defaultResource(opts, merchant, deps.book, now);
  const nonce = newAeadNonce();
  const body = JSON.stringify({
    id: opts.id ?? newNotificationId(),
    create_time: rfc3339Cst(now),
    resource_type: 'encrypt-resource',
    event_type: opts.eventType,
    summary: SUMMARIES[opts.eventType],
    resource: {
      original_type: originalType,
      algorithm: AEAD_ALGORITHM,
      ciphertext: aeadEncrypt(merchant.apiV3Key, nonce, originalType, JSON.stringify(resource)),
      associated_data: originalType,
      nonce,
    },
  });
  const signer = deps.keys.signer(opts.keyMode ?? merchant.mode);
  const headers = {
    ...signatureHeaders(signer, body, now, opts.tamper),
    'Content-Type': 'application/json',
  };
  return { headers, body };
}

function defaultResource(
  opts: PayNotificationOptions,
  merchant: SimMerchant,
  book: PayBook,
  nowMs: number,
): Record<string, unknown> {
  if (opts.eventType === 'TRANSACTION.SUCCESS') {
    const order = opts.outTradeNo ? book.order(merchant.mchId, opts.outTradeNo) : undefined;
    if (!order) return syntheticTransaction(merchant.mchId, opts.outTradeNo, nowMs);
    if (order.state !== 'SUCCESS' && order.state !== 'REFUND') {
      throw new Error(`order ${opts.outTradeNo} is ${order.state}: call pay() before notifying`);
    }
    return { ...transactionView(order) };
  }
  const status = REFUND_EVENT_STATUS[opts.eventType];
  const refund = opts.outRefundNo ? book.refund(merchant.mchId, opts.outRefundNo) : undefined;
  if (!refund) return syntheticRefund(merchant.mchId, opts, status, nowMs);
  const view = refundNoticeView(refund, status);
  if (status === 'SUCCESS' && view.success_time === undefined)
    view.success_time = rfc3339Cst(nowMs);
  return view;
}

function syntheticTransaction(mchid: string, outTradeNo: string | undefined, nowMs: number) {
  return {
    appid: SYNTHETIC_APPID,
    mchid,
    out_trade_no: outTradeNo ?? `SIM${randomAlnum(16)}`,
    transaction_id: newTransactionId(nowMs),
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    attach: '',
    success_time: rfc3339Cst(nowMs),
    payer: { openid: SYNTHETIC_OPENID },
    amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' },
  };
}

function syntheticRefund(
  mchid: string,
  opts: PayNotificationOptions,
  status: RefundStatus,
  nowMs: number,
): Record<string, unknown> {
  return {
    mchid,
    out_trade_no: opts.outTradeNo ?? `SIM${randomAlnum(16)}`,
    transaction_id: newTransactionId(nowMs),
    out_refund_no: opts.outRefundNo ?? `SIMR${randomAlnum(16)}`,
    refund_id: newRefundId(nowMs),
    refund_status: status,
    ...(status === 'SUCCESS' ? { success_time: rfc3339Cst(nowMs) } : {}),
    user_received_account: '支付用户零钱',
    amount: { total: 1, refund: 1, payer_total: 1, payer_refund: 1 },
  };
}

/** POST a notification to `url`; the receiver's status and raw answer body. */
export async function postNotification(
  fetchImpl: typeof fetch,
  url: string,
  notification: PayNotification,
): Promise<{ status: number; body: string }> {
  const res = await fetchImpl(url, {
    method: 'POST',
    headers: notification.headers,
    body: notification.body,
  });
  return { status: res.status, body: await res.text() };
}
