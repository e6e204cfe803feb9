import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { createSelfSignedCertificate } from '../../dev/simulator/x509';
import type { MerchantConfig } from '../../shared/config';
import { encryptResource, nonceStr, signLines } from '../../shared/pay/crypto';
import { uniqueName } from '../../shared/store/testing';

/** A freshly generated platform-side key: a WeChat Pay public key or a platform certificate. */
export interface PlatformKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  /** `PUB_KEY_ID_…` or the certificate's hex serial. */
  serial: string;
  certificatePem?: string;
}

function rsa() {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** A new WeChat Pay public key with its id. */
export function newPublicKey(): PlatformKey {
  const { privateKey, publicKey } = rsa();
  const id = `PUB_KEY_ID_0${Array.from(randomBytes(16), (b) => String(b % 10)).join('')}`;
  return {
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    serial: id,
  };
}

/** A new platform certificate (self-signed, valid a year around `now`). */
export function newPlatformCertificate(now = Date.now()): PlatformKey {
  const { privateKey, publicKey } = rsa();
  const cert = createSelfSignedCertificate({
    publicKey,
    privateKey,
    notBefore: now - 86_400_000,
    notAfter: now + 365 * 86_400_000,
  });
  return {
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    serial: cert.serialNo,
    certificatePem: cert.pem,
  };
}

/** The merchant's own API key pair (signs requests and paySign). */
export const merchantKeyPair = () => {
  const { privateKey, publicKey } = rsa();
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey,
  };
};

/** A merchant entry of the apps file trusting `keys` (public keys and/or certificates). */
export function testMerchant(
  merchantPrivateKeyPem: string,
  keys: PlatformKey[],
  over: Partial<MerchantConfig> = {},
): MerchantConfig {
  const pub = keys.find((k) => k.certificatePem === undefined);
  return {
    name: uniqueName('mch'),
    mchId: `19${Array.from(randomBytes(8), (b) => String(b % 10)).join('')}`,
    apiV3Key: randomBytes(16).toString('hex'),
    serialNo: randomBytes(20).toString('hex').toUpperCase(),
    privateKey: merchantPrivateKeyPem,
    ...(pub === undefined ? {} : { publicKeyId: pub.serial, publicKey: pub.publicKeyPem }),
    platformCertificates: keys.flatMap((k) =>
      k.certificatePem === undefined ? [] : [{ serialNo: k.serial, certificate: k.certificatePem }],
    ),
    forward: [],
    ...over,
  };
}

export interface SignedNotification {
  headers: Record<string, string>;
  body: string;
  id: string;
  resource: Record<string, unknown>;
}

/** A payment resource as WeChat Pay sends it (decrypted form). */
export function transactionResource(mchId: string, outTradeNo = uniqueName('T')) {
  return {
    mchid: mchId,
    appid: 'wxd678efh567hg6787',
    out_trade_no: outTradeNo,
    transaction_id: `42000${Date.now()}`,
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'CMC',
    attach: '',
    success_time: '2026-11-21T10:34:56+08:00',
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
  };
}

/**
 * A notification exactly as WeChat Pay sends it: resource sealed with `apiV3Key`, signed by `key`
 * over `timestamp\nnonce\nbody\n`, with the `Wechatpay-*` headers of
 * https://pay.weixin.qq.com/docs/merchant/development/interface-rules/build-verify-sign-src.html.
 */
export function signNotification(opts: {
  key: PlatformKey;
  apiV3Key: string;
  resource: Record<string, unknown>;
  eventType?: string;
  id?: string;
  timestamp?: number;
  /** Replaces the body after sealing (before signing), e.g. to sign malformed JSON. */
  body?: string;
  /** The resource's JSON text as sealed, instead of `JSON.stringify(resource)`. */
  resourceText?: string;
}): SignedNotification {
  const eventType = opts.eventType ?? 'TRANSACTION.SUCCESS';
  const refund = eventType.startsWith('REFUND.');
  const id = opts.id ?? randomUUID();
  const sealed = encryptResource(
    Buffer.from(opts.apiV3Key, 'utf8'),
    opts.resourceText ?? JSON.stringify(opts.resource),
    refund ? 'refund' : 'transaction',
  );
  const body =
    opts.body ??
    JSON.stringify({
      id,
      create_time: '2026-11-21T10:34:57+08:00',
      resource_type: 'encrypt-resource',
      event_type: eventType,
      summary: refund ? '退款成功' : '支付成功',
      resource: { original_type: refund ? 'refund' : 'transaction', ...sealed },
    });
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = nonceStr();
  return {
    id,
    resource: opts.resource,
    body,
    headers: {
      'content-type': 'application/json',
      'wechatpay-timestamp': timestamp,
      'wechatpay-nonce': nonce,
      'wechatpay-signature': signLines(opts.key.privateKey, [timestamp, nonce, body]),
      'wechatpay-serial': opts.key.serial,
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    },
  };
}

/** The same notification with its signature recomputed over a changed body. */
export function resign(n: SignedNotification, key: PlatformKey, body: string): SignedNotification {
  const h = n.headers;
  const sig = signLines(key.privateKey, [
    h['wechatpay-timestamp'] ?? '',
    h['wechatpay-nonce'] ?? '',
    body,
  ]);
  return { ...n, body, headers: { ...h, 'wechatpay-signature': sig } };
}
