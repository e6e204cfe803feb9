import { createDecipheriv } from 'node:crypto';
import { AppError } from '../http/errors';

const BLOCK = 16;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const failed = (why: string) =>
  new AppError(
    'DECRYPT_FAILED',
    `encryptedData does not decrypt with the session key held for this user (${why}); it was ` +
      'altered, or encrypted under an older session: log in again and fetch it anew',
  );

/**
 * Decrypts a Mini Program's legacy open data (`encryptedData` + `iv` from `wx.getUserInfo`, the
 * old `getPhoneNumber`…) with the user's session key: AES-128-CBC, PKCS#7 padding checked
 * strictly, then the `watermark` — `appid` must be `appId` and `timestamp` present
 * (https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html).
 * CBC carries no MAC: an altered block is refused when it breaks the padding, the UTF-8, the
 * JSON or the watermark. Errors never carry the plaintext.
 *
 * @throws AppError `DECRYPT_FAILED` or `WATERMARK_MISMATCH` (400).
 */
export function decryptOpenData(
  sessionKey: string,
  encryptedData: string,
  iv: string,
  appId: string,
): Record<string, unknown> {
  const key = Buffer.from(sessionKey, 'base64');
  const ivBytes = Buffer.from(iv, 'base64');
  const data = Buffer.from(encryptedData, 'base64');
  if (key.length !== BLOCK) throw failed('the held session key is not 16 bytes');
  if (ivBytes.length !== BLOCK) throw failed('iv is not 16 bytes');
  if (data.length === 0 || data.length % BLOCK !== 0) throw failed('not whole AES blocks');
  const decipher = createDecipheriv('aes-128-cbc', key, ivBytes);
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(data), decipher.final()]);
  const pad = padded[padded.length - 1] ?? 0;
  const padding = padded.subarray(padded.length - pad);
  if (pad < 1 || pad > BLOCK || !padding.every((b) => b === pad)) throw failed('bad padding');
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(padded.subarray(0, padded.length - pad)));
  } catch {
    throw failed('not JSON text');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw failed('not a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  const watermark = record.watermark as { appid?: unknown; timestamp?: unknown } | undefined;
  if (typeof watermark !== 'object' || watermark === null || watermark.appid !== appId) {
    throw new AppError('WATERMARK_MISMATCH', "watermark.appid is not this app's appid");
  }
  if (typeof watermark.timestamp !== 'number' || !Number.isFinite(watermark.timestamp)) {
    throw new AppError('WATERMARK_MISMATCH', 'watermark.timestamp is missing');
  }
  return record;
}
