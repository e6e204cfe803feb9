import { createHash, randomBytes } from 'node:crypto';

/**
 * The `wx.config` fields a page needs
 * (https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html).
 */
export interface JssdkConfig {
  timestamp: number;
  nonceStr: string;
  signature: string;
}

/** The page URL as signed: everything before `#`. */
export function signedUrl(url: string): string {
  const hash = url.indexOf('#');
  return hash === -1 ? url : url.slice(0, hash);
}

/**
 * JS-SDK signature: sha1 of `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` (keys in ASCII order,
 * raw values, no URL escaping), hex.
 */
export function jssdkSignature(p: {
  ticket: string;
  nonceStr: string;
  timestamp: number;
  url: string;
}): string {
  const s = `jsapi_ticket=${p.ticket}&noncestr=${p.nonceStr}&timestamp=${p.timestamp}&url=${signedUrl(p.url)}`;
  return createHash('sha1').update(s, 'utf8').digest('hex');
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A 16-character random nonce from letters and digits. */
export function randomNonce(length = 16): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += NONCE_ALPHABET[b % NONCE_ALPHABET.length];
  return out;
}

/** Builds the `wx.config` signature fields for `url` with the given ticket, now. */
export function buildJssdkConfig(ticket: string, url: string, nowMs: number): JssdkConfig {
  const timestamp = Math.floor(nowMs / 1000);
  const nonceStr = randomNonce();
  return { timestamp, nonceStr, signature: jssdkSignature({ ticket, nonceStr, timestamp, url }) };
}
