import type { KeyObject } from 'node:crypto';
import { newPrepayId, newRefundId, newTransactionId } from './pay-crypto';
import type { PayKeyMode } from './pay-keys';

/** A registered merchant, keys parsed. */
export interface SimMerchant {
  mchId: string;
  apiV3Key: string;
  /** Serial of the merchant API certificate, as sent in `Authorization` (compared case-insensitively). */
  serialNo: string;
  /** The merchant's API public key: verifies its request signatures. */
  publicKey: KeyObject;
  /** How WeChat Pay signs this merchant's notifications. */
  mode: PayKeyMode;
}

/** An error answer in WeChat Pay's format: HTTP status plus `{code, message}`. */
export interface PayFailure {
  status: number;
  code: string;
  message: string;
}

/** A result that is either a value or a WeChat Pay error answer. */
export type PayOutcome<T> = { ok: true; value: T } | { ok: false; failure: PayFailure };

/** Body of `POST /v3/pay/transactions/jsapi` (WeChat's field names). */
export interface JsapiOrderParams {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  notify_url: string;
  amount: { total: number; currency?: string };
  payer: { openid: string };
  attach?: string;
  time_expire?: string;
}

/** Body of `POST /v3/refund/domestic/refunds` (WeChat's field names). */
export interface RefundParams {
  out_trade_no?: string;
  transaction_id?: string;
  out_refund_no: string;
  reason?: string;
  notify_url?: string;
  amount: { refund: number; total: number; currency: string };
}

/** `trade_state` values the simulator produces. */
export type TradeState = 'NOTPAY' | 'SUCCESS' | 'REFUND' | 'CLOSED';
/** Refund `status` values. */
export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED';

/** An order the simulator holds. */
export interface StoredOrder {
  params: JsapiOrderParams;
  /** Canonical JSON of `params`: a repeated order must match it. */
  fingerprint: string;
  prepayId: string;
  state: TradeState;
  transactionId?: string;
  successTime?: number;
  refunded: number;
}

/** A refund the simulator holds. */
export interface StoredRefund {
  mchid: string;
  params: RefundParams;
  fingerprint: string;
  refundId: string;
  outTradeNo: string;
  transactionId: string;
  status: RefundStatus;
  createTime: number;
  successTime?: number;
}

const fail = (status: number, code: string, message: string) =>
  ({ ok: false, failure: { status, code, message } }) as const;

const keyOf = (mchid: string, no: string) => `${mchid}\u0000${no}`;

/** Merchants, orders and refunds of the simulated WeChat Pay. */
export class PayBook {
  readonly merchants = new Map<string, SimMerchant>();
  private readonly orders = new Map<string, StoredOrder>();
  private readonly refunds = new Map<string, StoredRefund>();

  /** The order, or undefined. */
  order(mchid: string, outTradeNo: string): StoredOrder | undefined {
    return this.orders.get(keyOf(mchid, outTradeNo));
  }

  /** The order paid with `transactionId`, or undefined. */
  orderByTransactionId(mchid: string, transactionId: string): StoredOrder | undefined {
    for (const order of this.orders.values()) {
      if (order.params.mchid === mchid && order.transactionId === transactionId) return order;
    }
    return undefined;
  }

  /** Place a JSAPI order; the same parameters again answer the same order. */
  createOrder(params: JsapiOrderParams, nowMs: number): PayOutcome<StoredOrder> {
    const fingerprint = JSON.stringify(params);
    const existing = this.order(params.mchid, params.out_trade_no);
    if (existing) {
      if (existing.state === 'CLOSED') return fail(400, 'ORDER_CLOSED', '订单已关闭');
      if (existing.state !== 'NOTPAY') return fail(400, 'ORDERPAID', '该订单已支付');
      if (existing.fingerprint !== fingerprint) {
        return fail(400, 'INVALID_REQUEST', '商户订单号重复，且请求参数与原订单不一致');
      }
      return { ok: true, value: existing };
    }
    const order: StoredOrder = {
      params,
      fingerprint,
      prepayId: newPrepayId(nowMs),
      state: 'NOTPAY',
      refunded: 0,
    };
    this.orders.set(keyOf(params.mchid, params.out_trade_no), order);
    return { ok: true, value: order };
  }

  /** Close an unpaid order (closing a closed one again is fine). */
  closeOrder(mchid: string, outTradeNo: string): PayOutcome<StoredOrder> {
    const order = this.order(mchid, outTradeNo);
    if (!order) return fail(404, 'ORDER_NOT_EXIST', '订单不存在');
    if (order.state === 'SUCCESS' || order.state === 'REFUND') {
      return fail(400, 'ORDERPAID', '订单已支付，不能关闭');
    }
    order.state = 'CLOSED';
    return { ok: true, value: order };
  }

  /** Mark an order paid (idempotent). Throws for an unknown or closed order. */
  pay(mchid: string, outTradeNo: string, nowMs: number): StoredOrder {
    const order = this.order(mchid, outTradeNo);
    if (!order) throw new Error(`unknown order ${outTradeNo} of merchant ${mchid}`);
    if (order.state === 'CLOSED')
      throw new Error(`order ${outTradeNo} is CLOSED and cannot be paid`);
    if (order.state === 'NOTPAY') {
      order.state = 'SUCCESS';
      order.transactionId = newTransactionId(nowMs);
      order.successTime = nowMs;
    }
    return order;
  }

  /** The refund, or undefined. */
  refund(mchid: string, outRefundNo: string): StoredRefund | undefined {
    return this.refunds.get(keyOf(mchid, outRefundNo));
  }

  /** Every refund with `outRefundNo`, of `mchid` when given. */
  findRefunds(outRefundNo: string, mchid?: string): StoredRefund[] {
    return [...this.refunds.values()].filter(
      (r) => r.params.out_refund_no === outRefundNo && (mchid === undefined || r.mchid === mchid),
    );
  }

  /** Apply for a refund of a paid order; the same parameters again answer the same refund. */
  createRefund(mchid: string, params: RefundParams, nowMs: number): PayOutcome<StoredRefund> {
    const fingerprint = JSON.stringify(params);
    const existing = this.refund(mchid, params.out_refund_no);
    if (existing) {
      if (existing.fingerprint === fingerprint) return { ok: true, value: existing };
      return fail(400, 'INVALID_REQUEST', '商户退款单号重复，且请求参数与原退款单不一致');
    }
    const order = this.refundableOrder(mchid, params);
    if (!order.ok) return order;
    const { params: p, transactionId } = order.value;
    if (params.amount.total !== p.amount.total) {
      return fail(400, 'PARAM_ERROR', '订单金额total与原订单金额不一致');
    }
    if (params.amount.refund > p.amount.total - order.value.refunded) {
      return fail(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额');
    }
    order.value.refunded += params.amount.refund;
    order.value.state = 'REFUND';
    const refund: StoredRefund = {
      mchid,
      params,
      fingerprint,
      refundId: newRefundId(nowMs),
      outTradeNo: p.out_trade_no,
      transactionId: transactionId ?? '',
      status: 'PROCESSING',
      createTime: nowMs,
    };
    this.refunds.set(keyOf(mchid, params.out_refund_no), refund);
    return { ok: true, value: refund };
  }

  private refundableOrder(mchid: string, params: RefundParams): PayOutcome<StoredOrder> {
    const order =
      params.transaction_id !== undefined
        ? this.orderByTransactionId(mchid, params.transaction_id)
        : this.order(mchid, params.out_trade_no ?? '');
    if (!order) return fail(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    if (order.state !== 'SUCCESS' && order.state !== 'REFUND') {
      return fail(400, 'INVALID_REQUEST', '订单未支付，不能发起退款');
    }
    return { ok: true, value: order };
  }

  /** Forget orders and refunds (merchants stay). */
  reset(): void {
    this.orders.clear();
    this.refunds.clear();
  }
}
