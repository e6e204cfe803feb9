import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import type { SimClock } from './clock';
import type { CallCounters, FaultBook } from './faults';
import type { StoredRefund } from './pay-book';
import { PayBook } from './pay-book';
import type { PayTamper } from './pay-crypto';
import { PAY_TAMPERS } from './pay-crypto';
import { handlePayRequest } from './pay-http';
import type { PayKeyMode, PayKeysExport } from './pay-keys';
import { PayKeys } from './pay-keys';
import type { PayNotification, PayNotificationOptions } from './pay-notify';
import { buildNotification, postNotification } from './pay-notify';
import type { PayTransaction } from './pay-views';
import { refundView, transactionView } from './pay-views';

/** Registration of one simulated WeChat Pay merchant. */
export interface SimMerchantConfig {
  mchId: string;
  /** The APIv3 key: exactly 32 bytes of UTF-8. Encrypts certificates and notifications. */
  apiV3Key: string;
  /** Serial of the merchant API certificate, as the merchant sends it in `serial_no`. */
  serialNo: string;
  /** PEM of the merchant API public key (or its certificate): verifies request signatures. */
  publicKey: string;
  /** How WeChat Pay signs this merchant's notifications; default `publicKey`. */
  mode?: PayKeyMode;
}

function isPublicKeyPem(pem: string): boolean {
  if (pem.includes('PRIVATE KEY')) return false;
  try {
    return createPublicKey(pem).asymmetricKeyType === 'rsa';
  } catch {
    return false;
  }
}

/** Validation schema for {@link SimMerchantConfig}. */
export const simMerchantSchema = z.strictObject({
  mchId: z.string().regex(/^\d{1,32}$/, 'mchId must be a string of digits'),
  apiV3Key: z
    .string()
    .refine((key) => Buffer.byteLength(key, 'utf8') === 32, 'apiV3Key must be exactly 32 bytes'),
  serialNo: z.string().regex(/^[0-9A-Fa-f]{8,64}$/, 'serialNo must be a hex certificate serial'),
  publicKey: z.string().refine(isPublicKeyPem, 'publicKey must be the PEM of an RSA public key'),
  mode: z.enum(['publicKey', 'certificate']).optional(),
});

/** Programmatic control of the simulated WeChat Pay (`api.mch.weixin.qq.com`). */
export interface SimPay {
  /** Add a merchant, or replace the keys/mode of one (its orders stay). Throws on bad input. */
  registerMerchant(cfg: SimMerchantConfig): void;
  /** Mark an order paid (SUCCESS, transaction_id, success_time, bank_type OTHERS); idempotent. */
  pay(mchId: string, outTradeNo: string): PayTransaction;
  /** Mark a refund SUCCESS; `mchId` is needed only when several merchants used `outRefundNo`. */
  refundSucceeds(outRefundNo: string, mchId?: string): Record<string, unknown>;
  /** The order as `GET /v3/pay/transactions/out-trade-no/…` shows it, or undefined. */
  order(mchId: string, outTradeNo: string): PayTransaction | undefined;
  /** A notification exactly as WeChat Pay would POST it. Throws for an unknown merchant. */
  notification(opts: PayNotificationOptions): PayNotification;
  /** POST {@link notification} to `url`; the receiver's status and raw body. */
  sendNotification(
    url: string,
    opts: PayNotificationOptions,
  ): Promise<{ status: number; body: string }>;
  /** WeChat Pay's public key and platform certificates, as a merchant configures them. */
  keys(): PayKeysExport;
  /** Issue a new signing certificate (the previous one stays listed); its serial. */
  rotateCertificate(): string;
  /** Stop listing a previous certificate. Throws for the signing one or an unknown serial. */
  retireCertificate(serialNo: string): void;
  /** Spoil the signature of the next `/v3/` response (queued, one per call). */
  tamperNextResponse(mode: PayTamper): void;
}

/** The pay half of a simulator: its control API, its HTTP entry point and its reset. */
export interface PaySimulator {
  api: SimPay;
  handle(raw: Request, deps: { counters: CallCounters; faults: FaultBook }): Promise<Response>;
  /** Forget orders, refunds and queued tampers; merchants and keys stay. */
  reset(): void;
}

/** Create the WeChat Pay side of a simulator. Keys are generated on first use. */
export function createPaySimulator(clock: SimClock, fetchImpl: typeof fetch): PaySimulator {
  const book = new PayBook();
  const keys = new PayKeys(clock);
  const ctx = { book, keys, clock };
  const tampers: PayTamper[] = [];
  const api: SimPay = {
    registerMerchant(cfg) {
      const parsed = simMerchantSchema.parse(cfg);
      book.merchants.set(parsed.mchId, {
        ...parsed,
        publicKey: createPublicKey(parsed.publicKey),
        mode: parsed.mode ?? 'publicKey',
      });
    },
    pay: (mchId, outTradeNo) => transactionView(book.pay(mchId, outTradeNo, clock.now())),
    refundSucceeds(outRefundNo, mchId) {
      const refund = onlyRefund(book.findRefunds(outRefundNo, mchId), outRefundNo);
      if (refund.status !== 'SUCCESS') {
        refund.status = 'SUCCESS';
        refund.successTime = clock.now();
      }
      return refundView(refund);
    },
    order(mchId, outTradeNo) {
      const order = book.order(mchId, outTradeNo);
      return order ? transactionView(order) : undefined;
    },
    notification: (opts) => buildNotification(opts, ctx),
    sendNotification: (url, opts) => postNotification(fetchImpl, url, buildNotification(opts, ctx)),
    keys: () => keys.export(),
    rotateCertificate: () => keys.rotate().serialNo,
    retireCertificate: (serialNo) => keys.retire(serialNo),
    tamperNextResponse(mode) {
      tampers.push(z.enum(PAY_TAMPERS).parse(mode));
    },
  };
  return {
    api,
    handle: (raw, deps) =>
      handlePayRequest(raw, { ...deps, ctx, takeTamper: () => tampers.shift() }),
    reset() {
      book.reset();
      tampers.length = 0;
    },
  };
}

function onlyRefund(found: StoredRefund[], outRefundNo: string): StoredRefund {
  const [refund, ...others] = found;
  if (!refund) throw new Error(`unknown out_refund_no ${outRefundNo}`);
  if (others.length > 0)
    throw new Error(`several merchants have refund ${outRefundNo}: pass mchId`);
  return refund;
}
