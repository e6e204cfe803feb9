import type { KeyObject } from 'node:crypto';
import {
  createDecipheriv,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  X509Certificate,
} from 'node:crypto';
import type { Simulator } from './app';
import type { SimMerchantConfig } from './pay';
import type { PayKeysExport } from './pay-keys';
import { type RunningSimulator, startSimulator } from './server';
import { newSim } from './test-helpers';

/**
 * Test-side WeChat Pay client pieces, written straight on node:crypto so the simulator is checked
 * against an independent implementation of the signing rules.
 */

/** The merchant's API key pair (generated once per test file). */
export const MERCHANT_KEYS = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** A second key pair, for wrong-key cases. */
export const OTHER_KEYS = generateKeyPairSync('rsa', { modulusLength: 2048 });

export const MCH_ID = '1900000109';
export const MCH_ID2 = '1900000110';
export const API_V3_KEY = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6';
export const MCH_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
export const APPID = 'wxd678efh567hg6787';
export const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';

/** Registration of the test merchant (public-key mode unless overridden). */
export function merchantConfig(over: Partial<SimMerchantConfig> = {}): SimMerchantConfig {
  const publicKey = MERCHANT_KEYS.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { mchId: MCH_ID, apiV3Key: API_V3_KEY, serialNo: MCH_SERIAL, publicKey, ...over };
}

/** How a test request is signed; every field has a correct default. */
export interface SignOptions {
  mchId?: string;
  serialNo?: string;
  privateKey?: KeyObject;
  /** Authorization timestamp, seconds; default the simulator clock. */
  timestamp?: number;
  nonce?: string;
  /** Sent as `Wechatpay-Serial` (public-key mode asks for responses signed with that key). */
  wechatpaySerial?: string;
  /** Replace the whole Authorization header. */
  authorization?: string;
}

/** The decoded answer of a pay call. */
export interface PayAnswer {
  res: Response;
  status: number;
  text: string;
  /** Parsed JSON body (`{}` for an empty body). */
  json: Record<string, unknown>;
}

/** `WECHATPAY2-SHA256-RSA2048 …` for one request. */
export function authorization(
  sim: Simulator,
  method: string,
  pathWithQuery: string,
  body: string,
  opts: SignOptions = {},
): string {
  const timestamp = String(opts.timestamp ?? Math.floor(sim.clock.now() / 1000));
  const nonce = opts.nonce ?? randomBytes(16).toString('hex');
  const message = `${method}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${body}\n`;
  const key = opts.privateKey ?? MERCHANT_KEYS.privateKey;
  const signature = sign('sha256', Buffer.from(message), key).toString('base64');
  const mchid = opts.mchId ?? MCH_ID;
  const serial = opts.serialNo ?? MCH_SERIAL;
  return `WECHATPAY2-SHA256-RSA2048 mchid="${mchid}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${serial}"`;
}

/** Send a signed request to `base` (a running simulator) and read the answer. */
export async function payCall(
  base: string,
  sim: Simulator,
  method: 'GET' | 'POST',
  pathWithQuery: string,
  payload?: unknown,
  opts: SignOptions = {},
): Promise<PayAnswer> {
  const body =
    payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers: Record<string, string> = {
    Accept: 'application/json',
    Authorization: opts.authorization ?? authorization(sim, method, pathWithQuery, body, opts),
  };
  if (body !== '') headers['Content-Type'] = 'application/json';
  if (opts.wechatpaySerial) headers['Wechatpay-Serial'] = opts.wechatpaySerial;
  const res = await fetch(`${base}${pathWithQuery}`, {
    method,
    headers,
    body: method === 'GET' ? undefined : body,
  });
  const text = await res.text();
  const json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  return { res, status: res.status, text, json };
}

/** True when `signature` signs `TIMESTAMP\nNONCE\nBODY\n` with `key`. */
export function verifySigned(
  headers: Headers | Record<string, string>,
  body: string,
  key: KeyObject,
): boolean {
  const get = (name: string) =>
    headers instanceof Headers
      ? (headers.get(name) ?? '')
      : (Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '');
  const message = `${get('wechatpay-timestamp')}\n${get('wechatpay-nonce')}\n${body}\n`;
  const signature = Buffer.from(get('wechatpay-signature'), 'base64');
  return verify('sha256', Buffer.from(message), key, signature);
}

/** The verification key `Wechatpay-Serial` names among the published keys, if any. */
export function keyForSerial(keys: PayKeysExport, serial: string | null): KeyObject | undefined {
  if (serial === keys.publicKeyId) return createPublicKey(keys.publicKey);
  const cert = keys.certificates.find((c) => c.serialNo === serial);
  return cert ? new X509Certificate(cert.certificate).publicKey : undefined;
}

/** AEAD_AES_256_GCM decryption as a merchant does it (tag = last 16 bytes). */
export function aeadDecrypt(
  apiV3Key: string,
  nonce: string,
  associatedData: string,
  ciphertext: string,
): string {
  const bytes = Buffer.from(ciphertext, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key), Buffer.from(nonce));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  decipher.setAAD(Buffer.from(associatedData));
  return Buffer.concat([
    decipher.update(bytes.subarray(0, bytes.length - 16)),
    decipher.final(),
  ]).toString('utf8');
}

/** A JSAPI order body for the test merchant. */
export function jsapiOrder(outTradeNo: string, total = 100, over: Record<string, unknown> = {}) {
  return {
    appid: APPID,
    mchid: MCH_ID,
    description: 'Image形象店-深圳腾大-QQ公仔',
    out_trade_no: outTradeNo,
    notify_url: 'https://www.weixin.qq.com/wxpay/pay.php',
    amount: { total, currency: 'CNY' },
    payer: { openid: OPENID },
    ...over,
  };
}

/** A simulator over HTTP at T0 with the default merchant (and `more`) registered. */
export async function startPaySimulator(
  more: Partial<SimMerchantConfig>[] = [],
): Promise<RunningSimulator> {
  const running = await startSimulator({ sim: newSim() });
  running.sim.pay.registerMerchant(merchantConfig());
  for (const m of more) running.sim.pay.registerMerchant(merchantConfig(m));
  return running;
}
