import type { RefundStatus, StoredOrder, StoredRefund, TradeState } from './pay-book';
import { rfc3339Cst } from './pay-crypto';

const TRADE_STATE_DESC: Readonly<Record<TradeState, string>> = {
  NOTPAY: '未支付',
  SUCCESS: '支付成功',
  REFUND: '转入退款',
  CLOSED: '已关闭',
};

/** The transaction object WeChat Pay answers and sends in `TRANSACTION.SUCCESS` notifications. */
export interface PayTransaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  transaction_id?: string;
  trade_type: 'JSAPI';
  trade_state: TradeState;
  trade_state_desc: string;
  bank_type?: string;
  attach: string;
  success_time?: string;
  payer: { openid: string };
  amount: { total: number; payer_total?: number; currency: string; payer_currency: string };
}

/** Render an order as WeChat Pay's transaction object (paid fields only once paid). */
export function transactionView(order: StoredOrder): PayTransaction {
  const p = order.params;
  const currency = p.amount.currency ?? 'CNY';
  const paid = order.transactionId !== undefined;
  const view: PayTransaction = {
    appid: p.appid,
    mchid: p.mchid,
    out_trade_no: p.out_trade_no,
    trade_type: 'JSAPI',
    trade_state: order.state,
    trade_state_desc: TRADE_STATE_DESC[order.state],
    attach: p.attach ?? '',
    payer: { openid: p.payer.openid },
    amount: { total: p.amount.total, currency, payer_currency: currency },
  };
  if (paid) {
    view.transaction_id = order.transactionId;
    view.bank_type = 'OTHERS';
    view.success_time = rfc3339Cst(order.successTime ?? 0);
    view.amount.payer_total = p.amount.total;
  }
  return view;
}

/** Render a refund as the object WeChat Pay answers for apply and query. */
export function refundView(refund: StoredRefund): Record<string, unknown> {
  const { amount } = refund.params;
  return {
    refund_id: refund.refundId,
    out_refund_no: refund.params.out_refund_no,
    transaction_id: refund.transactionId,
    out_trade_no: refund.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    ...(refund.successTime === undefined ? {} : { success_time: rfc3339Cst(refund.successTime) }),
    create_time: rfc3339Cst(refund.createTime),
    status: refund.status,
    funds_account: 'AVAILABLE',
    amount: {
      total: amount.total,
      refund: amount.refund,
      payer_total: amount.total,
      payer_refund: amount.refund,
      settlement_total: amount.total,
      settlement_refund: amount.refund,
      discount_refund: 0,
      currency: amount.currency,
    },
    promotion_detail: [],
  };
}

/** The plaintext resource of a `REFUND.*` notification. */
export function refundNoticeView(
  refund: StoredRefund,
  status: RefundStatus,
): Record<string, unknown> {
  const { amount } = refund.params;
  return {
    mchid: refund.mchid,
    out_trade_no: refund.outTradeNo,
    transaction_id: refund.transactionId,
    out_refund_no: refund.params.out_refund_no,
    refund_id: refund.refundId,
    refund_status: status,
    ...(refund.successTime === undefined ? {} : { success_time: rfc3339Cst(refund.successTime) }),
    user_received_account: '支付用户零钱',
    amount: {
      total: amount.total,
      refund: amount.refund,
      payer_total: amount.total,
      payer_refund: amount.refund,
    },
  };
}
