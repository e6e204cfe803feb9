import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  createVerify,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { isBranded } from '../http/errors';

/**
 * WeChat Pay API v3 primitives
 * (https://pay.weixin.qq.com/wiki/doc/api_external/ch/wechatpay/wechatpay4_0.shtml,
 * https://pay.weixin.qq.com/docs/merchant/development/interface-rules/build-verify-sign-src.html):
 * SHA256withRSA (PKCS#1 v1.5) over `\n`-terminated lines, the `Authorization` header,
 * AEAD_AES_256_GCM resources and the client `paySign`.
 */

const PAY_CRYPTO_ERROR = Symbol.for('wxhub.PayCryptoError');

/** Why a signature or resource was refused; the message names the cause, never a key. */
export class PayCryptoError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, PAY_CRYPTO_ERROR);
  }
  readonly [PAY_CRYPTO_ERROR] = true;
  override name = 'PayCryptoError';
}

/**
 * Signature header value of WeChat Pay's signature probes: must never verify
 * (https://pay.weixin.qq.com/docs/merchant/development/interface-rules/build-verify-sign-src.html).
 */
export const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';

/** The authorization scheme of API v3 requests. */
export const AUTH_SCHEME = 'WECHATPAY2-SHA256-RSA2048';

/** Joins message lines, each ending in `\n` (the last one too): strings as UTF-8, bytes as they are. */
export function signingMessage(lines: (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [];
  for (const line of lines) {
    parts.push(typeof line === 'string' ? Buffer.from(line, 'utf8') : Buffer.from(line));
    parts.push(NEWLINE);
  }
  return Buffer.concat(parts);
}
const NEWLINE = Buffer.from('\n');

/** Base64 SHA256withRSA signature of `lines` (see {@link signingMessage}). */
export function signLines(privateKey: KeyObject, lines: (string | Uint8Array)[]): string {
  return sign('sha256', signingMessage(lines), privateKey).toString('base64');
}

/**
 * Decodes base64, or undefined when `text` is empty or not base64: a character the decoder skips
 * makes the decoded length differ from the one the text's length promises. (Cheaper than a regex
 * over the whole text, which showed in profiles of the notification path.)
 */
function base64Bytes(text: string): Buffer | undefined {
  if (text.length === 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length > 0 && bytes.length === Buffer.byteLength(text, 'base64') ? bytes : undefined;
}

/**
 * True when `signature` (base64) is `publicKey`'s SHA256withRSA signature of `lines`. Probes
 * (`WECHATPAY/SIGNTEST/…`) and malformed signatures are simply false.
 */
export function verifyLines(
  publicKey: KeyObject,
  lines: (string | Uint8Array)[],
  signature: string,
): boolean {
  if (signature.startsWith(SIGNTEST_PREFIX)) return false;
  const bytes = base64Bytes(signature);
  if (bytes === undefined) return false;
  try {
    // Fed line by line: no joined copy of the message.
    const verifier = createVerify('sha256');
    for (const line of lines) verifier.update(line).update(NEWLINE);
    return verifier.verify(publicKey, bytes);
  } catch {
    return false;
  }
}

/** A private key from PEM (PKCS#8 or PKCS#1). */
export const privateKeyOf = (pem: string): KeyObject => createPrivateKey(pem);
/** A public key from a PEM public key or X.509 certificate. */
export const publicKeyOf = (pem: string): KeyObject => createPublicKey(pem);

/** A random nonce of `[0-9A-Za-z]`, 32 characters by default (nonce_str ≤ 32). */
export function nonceStr(length = 32): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

export interface RequestSigner {
  mchId: string;
  /** Serial of the merchant API certificate. */
  serialNo: string;
  privateKey: KeyObject;
}

/**
 * The `Authorization` header of an API v3 request
 * (https://pay.weixin.qq.com/wiki/doc/api_external/ch/wechatpay/wechatpay4_0.shtml): the signature
 * covers `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n`.
 *
 * @param pathWithQuery the URL without scheme and host, e.g. `/v3/certificates`
 * @param timestamp seconds since the epoch
 */
export function authorization(
  signer: RequestSigner,
  method: string,
  pathWithQuery: string,
  body: string,
  timestamp: number,
  nonce = nonceStr(),
): string {
  const signature = signLines(signer.privateKey, [
    method.toUpperCase(),
    pathWithQuery,
    String(timestamp),
    nonce,
    body,
  ]);
  return `${AUTH_SCHEME} mchid="${signer.mchId}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${signer.serialNo}"`;
}

/** The fields of an `Authorization` header, in any order; undefined when it is not one. */
export function parseAuthorization(
  header: string,
):
  | { mchid: string; nonce_str: string; signature: string; timestamp: string; serial_no: string }
  | undefined {
  if (!header.startsWith(`${AUTH_SCHEME} `)) return undefined;
  const fields = new Map<string, string>();
  for (const m of header.slice(AUTH_SCHEME.length + 1).matchAll(/(\w+)="([^"]*)"/g)) {
    fields.set(m[1] as string, m[2] as string);
  }
  const mchid = fields.get('mchid');
  const nonce = fields.get('nonce_str');
  const signature = fields.get('signature');
  const timestamp = fields.get('timestamp');
  const serial = fields.get('serial_no');
  if (!mchid || !nonce || !signature || !timestamp || !serial) return undefined;
  return { mchid, nonce_str: nonce, signature, timestamp, serial_no: serial };
}

/**
 * An encrypted resource of a notification or certificate download
 * (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_2_5.shtml,
 * https://pay.weixin.qq.com/wiki/doc/api_external/ch/apis/chapter3_2_8.shtml).
 */
export interface EncryptedResource {
  algorithm: string;
  ciphertext: string;
  nonce: string;
  associated_data?: string | undefined;
}

const TAG_BYTES = 16;

/**
 * Opens an AEAD_AES_256_GCM resource with the API v3 key: ciphertext is base64 of the encrypted
 * bytes followed by the 16-byte tag; `associated_data` is the AAD. Throws {@link PayCryptoError}
 * when the tag does not check (altered data or a wrong key).
 */
export function decryptResource(apiV3Key: Buffer, r: EncryptedResource): string {
  if (typeof r.ciphertext !== 'string' || typeof r.nonce !== 'string') {
    throw new PayCryptoError('resource ciphertext or nonce is missing');
  }
  if (r.algorithm !== 'AEAD_AES_256_GCM') {
    throw new PayCryptoError(
      `resource algorithm "${String(r.algorithm).slice(0, 32)}" is not AEAD_AES_256_GCM`,
    );
  }
  if (apiV3Key.length !== 32) throw new PayCryptoError('the API v3 key is not 32 bytes');
  const data = base64Bytes(r.ciphertext);
  if (data === undefined) throw new PayCryptoError('resource ciphertext is not base64');
  if (data.length < TAG_BYTES) throw new PayCryptoError('resource ciphertext is too short');
  const nonce = Buffer.from(r.nonce, 'utf8');
  if (nonce.length === 0) throw new PayCryptoError('resource nonce is empty');
  const decipher = createDecipheriv('aes-256-gcm', apiV3Key, nonce);
  decipher.setAAD(Buffer.from(r.associated_data ?? '', 'utf8'));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(data.subarray(0, data.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new PayCryptoError(
      'resource does not decrypt: the GCM tag does not check (wrong API v3 key, or altered data)',
    );
  }
}

/** Seals `plaintext` the way WeChat Pay does (for the simulator, tests and benches). */
export function encryptResource(
  apiV3Key: Buffer,
  plaintext: string,
  associatedData: string,
  nonce = nonceStr(12),
): EncryptedResource {
  const cipher = createCipheriv('aes-256-gcm', apiV3Key, Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const sealed = Buffer.concat([
    cipher.update(plaintext, 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return {
    algorithm: 'AEAD_AES_256_GCM',
    ciphertext: sealed.toString('base64'),
    nonce,
    associated_data: associatedData,
  };
}

/**
 * The parameters `wx.requestPayment` / `getBrandWCPayRequest` take
 * (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter7_2_9.shtml).
 */
export interface ClientPayParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

/** Client payment parameters for `prepayId`, signed over `appId\ntimeStamp\nnonceStr\npackage\n`. */
export function clientPayParams(
  privateKey: KeyObject,
  appId: string,
  prepayId: string,
  timestamp: number,
  nonce = nonceStr(),
): ClientPayParams {
  const pkg = `prepay_id=${prepayId}`;
  const timeStamp = String(timestamp);
  return {
    appId,
    timeStamp,
    nonceStr: nonce,
    package: pkg,
    signType: 'RSA',
    paySign: signLines(privateKey, [appId, timeStamp, nonce, pkg]),
  };
}
