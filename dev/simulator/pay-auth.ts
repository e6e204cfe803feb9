import type { SimMerchant } from './pay-book';
import { PAY_SIGNATURE_TYPE, requestSignMessage, rsaVerify } from './pay-crypto';

/** How far (seconds) an `Authorization` timestamp may be from WeChat's clock. */
export const PAY_TIMESTAMP_TOLERANCE_S = 300;

/** Messages WeChat Pay answers with 401 SIGN_ERROR (from its signing FAQ). */
export const SIGN_ERROR_MESSAGES = {
  format: 'Http头Authorization值格式错误',
  scheme: 'Http头Authorization认证类型不正确',
  noCertificate: '商户未申请过证书。',
  serial: '商户证书序列号有误。',
  timestamp: 'Http头Authorization中的timestamp与发起请求的时间不得超过5分钟',
  signature: '错误的签名，验签失败',
} as const;

/** The five items of a WeChat Pay `Authorization` header. */
export interface PayAuthorization {
  mchid: string;
  nonce_str: string;
  signature: string;
  timestamp: string;
  serial_no: string;
}

/** The parts of a request that its signature covers. */
export interface SignedRequest {
  method: string;
  /** Path plus `?query` exactly as sent. */
  pathWithQuery: string;
  body: string;
  authorization: string | undefined;
}

/** A 401 answer body. */
export interface SignErrorBody {
  code: 'SIGN_ERROR';
  message: string;
  detail?: Record<string, unknown>;
}

/** The request body is cut to this many characters in `truncated_sign_message`. */
const TRUNCATED_BODY_CHARS = 8;

/**
 * Parse `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",…` (items in any order).
 * `'scheme'` when another scheme is named; undefined when malformed or incomplete.
 */
export function parseAuthorization(
  header: string | undefined,
): PayAuthorization | 'scheme' | undefined {
  const match = /^(\S+)\s+(.+)$/s.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const [, scheme = '', params = ''] = match;
  if (scheme !== PAY_SIGNATURE_TYPE) return 'scheme';
  const found = new Map<string, string>();
  const rest = params.replace(
    /\s*([a-z_]+)="([^"]*)"\s*(,|$)/g,
    (_all, key: string, value: string) => {
      found.set(key, value);
      return '';
    },
  );
  if (rest !== '') return undefined;
  const item = (key: string) => found.get(key) ?? '';
  const auth: PayAuthorization = {
    mchid: item('mchid'),
    nonce_str: item('nonce_str'),
    signature: item('signature'),
    timestamp: item('timestamp'),
    serial_no: item('serial_no'),
  };
  return Object.values(auth).every((value) => value !== '') ? auth : undefined;
}

/** The mchid an `Authorization` header claims, without checking anything. */
export function claimedMchId(header: string | undefined): string | undefined {
  const auth = parseAuthorization(header);
  return typeof auth === 'object' ? auth.mchid : undefined;
}

/**
 * Check a request's `Authorization` as WeChat Pay does: format, merchant, certificate serial,
 * timestamp within 5 minutes of `nowMs`, then the RSA signature. The merchant, or the 401 body.
 */
export function checkAuthorization(
  req: SignedRequest,
  merchants: ReadonlyMap<string, SimMerchant>,
  nowMs: number,
): { ok: true; merchant: SimMerchant } | { ok: false; body: SignErrorBody } {
  const signError = (message: string, detail?: Record<string, unknown>) =>
    ({ ok: false, body: { code: 'SIGN_ERROR', message, ...(detail ? { detail } : {}) } }) as const;
  const auth = parseAuthorization(req.authorization);
  if (auth === 'scheme') return signError(SIGN_ERROR_MESSAGES.scheme);
  if (!auth) return signError(SIGN_ERROR_MESSAGES.format);
  const merchant = merchants.get(auth.mchid);
  if (!merchant) return signError(SIGN_ERROR_MESSAGES.noCertificate);
  if (merchant.serialNo.toUpperCase() !== auth.serial_no.toUpperCase()) {
    return signError(SIGN_ERROR_MESSAGES.serial);
  }
  const skew = Math.abs(Math.floor(nowMs / 1000) - Number(auth.timestamp));
  if (!/^\d{1,12}$/.test(auth.timestamp) || skew > PAY_TIMESTAMP_TOLERANCE_S) {
    return signError(SIGN_ERROR_MESSAGES.timestamp);
  }
  const message = requestSignMessage(
    req.method,
    req.pathWithQuery,
    auth.timestamp,
    auth.nonce_str,
    req.body,
  );
  if (!rsaVerify(merchant.publicKey, message, auth.signature)) {
    return signError(SIGN_ERROR_MESSAGES.signature, signatureDetail(req, auth, message));
  }
  return { ok: true, merchant };
}

/** The debugging detail WeChat Pay adds to a signature mismatch. */
function signatureDetail(
  req: SignedRequest,
  auth: PayAuthorization,
  message: string,
): Record<string, unknown> {
  const truncated = requestSignMessage(
    req.method,
    req.pathWithQuery,
    auth.timestamp,
    auth.nonce_str,
    req.body.slice(0, TRUNCATED_BODY_CHARS),
  );
  return {
    field: 'signature',
    issue: 'sign not match',
    location: 'authorization',
    sign_information: {
      method: req.method,
      url: req.pathWithQuery,
      truncated_sign_message: truncated,
      sign_message_length: Buffer.byteLength(message, 'utf8'),
    },
  };
}
