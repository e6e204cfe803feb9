import { createCipheriv, createDecipheriv, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isBranded } from '../http/errors';

/**
 * Message crypto of Official Account and Mini Program pushes
 * (https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html,
 * https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md): SHA-1
 * signatures over the sorted strings, and AES-256-CBC with IV = key[0:16], PKCS#7 padding to 32
 * bytes and the layout `random(16) | length (u32 BE) | message | appid`.
 */

const MESSAGE_CRYPTO_ERROR = Symbol.for('wxhub.MessageCryptoError');

/** Why a push was refused; the message is safe to answer (no key material, no plaintext). */
export class MessageCryptoError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, MESSAGE_CRYPTO_ERROR);
  }
  readonly [MESSAGE_CRYPTO_ERROR] = true;
  override readonly name = 'MessageCryptoError';
  constructor(
    readonly reason:
      | 'BAD_SIGNATURE'
      | 'BAD_ENCODING'
      | 'BAD_PADDING'
      | 'BAD_LENGTH'
      | 'WRONG_APPID'
      | 'BAD_KEY',
    message: string,
  ) {
    super(message);
  }
}

const BLOCK = 32;

/**
 * `sha1(sort(parts).join(''))` in hex: `signature` over token/timestamp/nonce, `msg_signature`
 * with the `Encrypt` field added.
 *
 * @example wechatSignature('AAAAA', '1714036504', '1514711492') // 'f464b24f…'
 */
export function wechatSignature(...parts: string[]): string {
  return hash('sha1', parts.sort().join(''), 'hex');
}

const HEX40 = /^[0-9a-fA-F]{40}$/;

/** Compares a presented hex signature with the expected one in constant time. */
export function signatureMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined || !HEX40.test(presented) || expected.length !== 40) return false;
  // Every character is compared (no early exit); `| 0x20` lower-cases A-F and leaves digits.
  let diff = 0;
  for (let i = 0; i < 40; i++) diff |= expected.charCodeAt(i) ^ (presented.charCodeAt(i) | 0x20);
  return diff === 0;
}

/**
 * Whether `presented` (40 hex digits, either case) is `sha1(sort(parts).join(''))`, compared in
 * constant time.
 *
 * @example signatureOf(query.msg_signature, token, timestamp, nonce, encrypt)
 */
export function signatureOf(presented: string | undefined, ...parts: string[]): boolean {
  return signatureMatches(wechatSignature(...parts), presented);
}

/** The 32-byte AES key of a 43-character EncodingAESKey. */
export function aesKeyOf(encodingAesKey: string): Buffer {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  // A character outside the alphabet decodes to nothing and leaves the key short.
  if (
    encodingAesKey.length !== 43 ||
    key.length !== 32 ||
    encodingAesKey.includes('-') ||
    encodingAesKey.includes('_')
  ) {
    throw new MessageCryptoError('BAD_KEY', 'EncodingAESKey must be 43 base64 characters');
  }
  return key;
}

/**
 * Decrypts an `Encrypt` field and checks the trailing appid.
 *
 * @returns the message text (XML or JSON as WeChat sent it)
 * @throws MessageCryptoError when the ciphertext, padding, length or appid is wrong
 */
export function decryptMessage(key: Buffer, encrypted: string, appId: string): string {
  if (encrypted.length === 0 || encrypted.length % 4 !== 0) {
    throw new MessageCryptoError('BAD_ENCODING', 'Encrypt is not base64');
  }
  const data = Buffer.from(encrypted, 'base64');
  // Node skips characters outside the alphabet (so they show as missing bytes) and also reads
  // the URL alphabet, which WeChat never sends.
  const padding = encrypted.endsWith('==') ? 2 : encrypted.endsWith('=') ? 1 : 0;
  if (
    data.length !== (encrypted.length / 4) * 3 - padding ||
    encrypted.includes('-') ||
    encrypted.includes('_')
  ) {
    throw new MessageCryptoError('BAD_ENCODING', 'Encrypt is not base64');
  }
  if (data.length % BLOCK !== 0) {
    throw new MessageCryptoError('BAD_ENCODING', 'Encrypt is not a whole number of 32-byte blocks');
  }
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const head = decipher.update(data);
  const tail = decipher.final();
  const plain = tail.length === 0 ? head : Buffer.concat([head, tail]);
  const pad = plain[plain.length - 1] ?? 0;
  if (pad < 1 || pad > BLOCK) throw new MessageCryptoError('BAD_PADDING', 'bad padding');
  for (let i = plain.length - pad; i < plain.length; i++) {
    if (plain[i] !== pad) throw new MessageCryptoError('BAD_PADDING', 'bad padding');
  }
  const body = plain.subarray(0, plain.length - pad);
  if (body.length < 20) throw new MessageCryptoError('BAD_LENGTH', 'message too short');
  const length = body.readUInt32BE(16);
  if (length > body.length - 20) {
    throw new MessageCryptoError('BAD_LENGTH', 'message length exceeds the decrypted data');
  }
  const trailing = body.subarray(20 + length);
  const expected = Buffer.from(appId, 'utf8');
  if (trailing.length !== expected.length || !timingSafeEqual(trailing, expected)) {
    throw new MessageCryptoError('WRONG_APPID', 'the message is for another appid');
  }
  return body.subarray(20, 20 + length).toString('utf8');
}

/**
 * Encrypts a reply: `random16 | length | message | appid`, PKCS#7 to 32 bytes, base64.
 * `random` is 16 fresh random bytes unless given (tests reproduce WeChat's example with it).
 */
export function encryptMessage(
  key: Buffer,
  message: string,
  appId: string,
  random: Buffer = randomBytes(16),
): string {
  const msg = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(msg.length, 0);
  const body = Buffer.concat([random, length, msg, Buffer.from(appId, 'utf8')]);
  const pad = BLOCK - (body.length % BLOCK);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([
    cipher.update(Buffer.concat([body, Buffer.alloc(pad, pad)])),
    cipher.final(),
  ]).toString('base64');
}
