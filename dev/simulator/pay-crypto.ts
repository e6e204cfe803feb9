import type { KeyObject } from 'node:crypto';
import { createCipheriv, randomBytes, randomInt, randomUUID, sign, verify } from 'node:crypto';
import { randomAlnum } from './ids';

/** The only signature scheme WeChat Pay API v3 uses, in `Authorization` and `Wechatpay-Signature-Type`. */
export const PAY_SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048';
/** Prefix of the probe signatures WeChat Pay sends to check that merchants verify. */
export const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';
/** AEAD algorithm name of encrypted resources and certificates. */
export const AEAD_ALGORITHM = 'AEAD_AES_256_GCM';

const UTC8_OFFSET_MS = 8 * 60 * 60 * 1000;

/** base64 SHA256withRSA (PKCS#1 v1.5) over the UTF-8 bytes of `message`. */
export function rsaSign(privateKey: KeyObject, message: string): string {
  return sign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

/** True when `signature` (base64) is a SHA256withRSA signature of `message` by `publicKey`. */
export function rsaVerify(publicKey: KeyObject, message: string, signature: string): boolean {
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length === 0) return false;
  return verify('sha256', Buffer.from(message, 'utf8'), publicKey, bytes);
}

/** The string a merchant signs: `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n`. */
export function requestSignMessage(
  method: string,
  pathWithQuery: string,
  timestamp: string,
  nonce: string,
  body: string,
): string {
  return `${method}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** The string WeChat Pay signs in responses and notifications: `TIMESTAMP\nNONCE\nBODY\n`. */
export function responseSignMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/**
 * AES-256-GCM as WeChat Pay uses it: key = the 32-byte APIv3 key, IV = the 12-char nonce,
 * AAD = associated_data; result = base64(ciphertext ‖ 16-byte tag).
 */
export function aeadEncrypt(apiV3Key: string, nonce: string, aad: string, plain: string): string {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce));
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const encrypted = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([encrypted, cipher.getAuthTag()]).toString('base64');
}

/** RFC 3339 in China Standard Time, second precision: `2026-11-21T10:00:00+08:00`. */
export function rfc3339Cst(epochMs: number): string {
  return `${new Date(epochMs + UTC8_OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}

/** `yyyyMMddHHmmss` in China Standard Time (used inside WeChat ids). */
function cstStamp(epochMs: number): string {
  return rfc3339Cst(epochMs).slice(0, 19).replace(/\D/g, '');
}

function randomDigits(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += String(randomInt(10));
  return out;
}

/** A 32-char nonce like the ones WeChat Pay puts in `Wechatpay-Nonce`. */
export function newPayNonce(): string {
  return randomAlnum(32);
}

/** A 12-char AEAD nonce (the IV is its 12 ASCII bytes). */
export function newAeadNonce(): string {
  return randomAlnum(12);
}

/** A WeChat Pay public key id: `PUB_KEY_ID_` + 32 digits. */
export function newPublicKeyId(): string {
  return `PUB_KEY_ID_${randomDigits(32)}`;
}

/** A prepay id: `wx` + CST timestamp + 20 hex chars (36 chars, like WeChat's). */
export function newPrepayId(nowMs: number): string {
  return `wx${cstStamp(nowMs)}${randomBytes(10).toString('hex')}`;
}

/** A 28-digit transaction id starting `4200`, like WeChat's. */
export function newTransactionId(nowMs: number): string {
  return `4200000000${cstStamp(nowMs).slice(0, 8)}${randomDigits(10)}`;
}

/** A 29-digit refund id starting `50`, like WeChat's. */
export function newRefundId(nowMs: number): string {
  return `50${cstStamp(nowMs).slice(0, 8)}${randomDigits(19)}`;
}

/** A `Request-ID` header value. */
export function newRequestId(): string {
  return randomBytes(20).toString('hex').toUpperCase();
}

/** A uuid-shaped notification id. */
export function newNotificationId(): string {
  return randomUUID();
}

/** Ways to spoil the signature of a response or notification, to test that clients verify. */
export const PAY_TAMPERS = ['unsigned', 'bad-signature', 'signtest'] as const;
/** `unsigned`: no Wechatpay-* headers; `bad-signature`: a real RSA signature of other bytes; `signtest`: a `WECHATPAY/SIGNTEST/` probe. */
export type PayTamper = (typeof PAY_TAMPERS)[number];

/**
 * The `Wechatpay-*` headers that sign `body` at `nowMs` with `signer`, as WeChat Pay sends them
 * on responses and notifications, optionally spoiled by `tamper`.
 */
export function signatureHeaders(
  signer: { serial: string; privateKey: KeyObject },
  body: string,
  nowMs: number,
  tamper?: PayTamper,
): Record<string, string> {
  if (tamper === 'unsigned') return {};
  const timestamp = String(Math.floor(nowMs / 1000));
  const nonce = newPayNonce();
  const message = responseSignMessage(timestamp, nonce, body);
  let signature = rsaSign(signer.privateKey, message);
  if (tamper === 'bad-signature') signature = rsaSign(signer.privateKey, `${message}tampered`);
  if (tamper === 'signtest') signature = `${SIGNTEST_PREFIX}${randomBytes(192).toString('base64')}`;
  return {
    'Wechatpay-Timestamp': timestamp,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Signature': signature,
    'Wechatpay-Serial': signer.serial,
    'Wechatpay-Signature-Type': PAY_SIGNATURE_TYPE,
  };
}
