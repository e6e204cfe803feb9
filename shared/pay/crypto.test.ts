import { generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import {
  AUTH_SCHEME,
  authorization,
  clientPayParams,
  decryptResource,
  type EncryptedResource,
  encryptResource,
  nonceStr,
  PayCryptoError,
  parseAuthorization,
  privateKeyOf,
  publicKeyOf,
  SIGNTEST_PREFIX,
  signingMessage,
  signLines,
  verifyLines,
} from './crypto';

interface Pair {
  privatePem: string;
  publicPem: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh RSA 2048 pair, loaded back from PEM the way wxhub loads configured keys. */
function rsaPair(): Pair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    privatePem,
    publicPem,
    privateKey: privateKeyOf(privatePem),
    publicKey: publicKeyOf(publicPem),
  };
}

/** The base64 DER inside a PEM, which the package's `Rsa.fromPkcs8`/`fromSpki` take. */
const pemBody = (pem: string): string => pem.replace(/-----[^-]+-----|\s/g, '');

const merchant = rsaPair();
const platform = rsaPair();
const stranger = rsaPair();
const API_V3_KEY = Buffer.from('0123456789abcdefghijklmnopqrstuv', 'ascii');
const OTHER_V3_KEY = Buffer.from('vutsrqponmlkjihgfedcba9876543210', 'ascii');

const TRANSACTION = JSON.stringify({
  mchid: '1900000001',
  appid: 'wxd678efh567hg6787',
  out_trade_no: '1217752501201407033233368018',
  transaction_id: '4200000000000000000000000001',
  trade_type: 'JSAPI',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  bank_type: 'CMC',
  attach: '自定义数据',
  success_time: '2024-08-05T17:33:41+08:00',
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
});

/**
 * A notification body the way WeChat Pay sends it
 * (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_2_5.shtml).
 */
const notificationBody = (resource: EncryptedResource): string =>
  JSON.stringify({
    id: 'EV-2018022511223320873',
    create_time: '2024-08-05T17:33:42+08:00',
    resource_type: 'encrypt-resource',
    event_type: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    resource: { original_type: 'transaction', ...resource },
  });

const resourceOf = (body: string | Buffer): EncryptedResource =>
  (JSON.parse(body.toString()) as { resource: EncryptedResource }).resource;

/** What decryptResource threw, so a test can check its class and message. */
function decryptError(key: Buffer, r: EncryptedResource): PayCryptoError {
  try {
    decryptResource(key, r);
  } catch (e) {
    if (e instanceof PayCryptoError) return e;
    throw new Error(`expected a PayCryptoError, got ${String(e)}`);
  }
  throw new Error('expected decryptResource to throw');
}

/** Flips one bit of the decoded ciphertext at `index` (negative counts from the end). */
function flipByte(r: EncryptedResource, index: number): EncryptedResource {
  const bytes = Buffer.from(r.ciphertext, 'base64');
  const at = index < 0 ? bytes.length + index : index;
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return { ...r, ciphertext: bytes.toString('base64') };
}

describe('signingMessage', () => {
  it('ends every line with \\n, the last and empty ones too', () => {
    expect(signingMessage(['a', '', 'b'])).toEqual(Buffer.from([0x61, 0x0a, 0x0a, 0x62, 0x0a]));
    expect(signingMessage(['GET', '/v3/certificates', '1', 'n', '']).toString()).toBe(
      'GET\n/v3/certificates\n1\nn\n\n',
    );
    expect(signingMessage([])).toEqual(Buffer.alloc(0));
  });

  it('encodes strings as UTF-8 and keeps bytes as they are', () => {
    const raw = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0x41]);
    expect(signingMessage(['支', raw])).toEqual(
      Buffer.concat([Buffer.from([0xe6, 0x94, 0xaf, 0x0a]), raw, Buffer.from([0x0a])]),
    );
  });

  // The example of
  // https://pay.weixin.qq.com/docs/merchant/development/interface-rules/build-verify-sign-src.html.
  it('builds the signing string of the official PUB_KEY_ID response example', () => {
    // The signature itself cannot be checked without WeChat Pay's key; the message layout can.
    const lines = [
      '1722850421',
      'd824f2e086d3c1df967785d13fcd22ef',
      '{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}',
    ];
    const expected =
      '1722850421\nd824f2e086d3c1df967785d13fcd22ef\n{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}\n';
    expect(signingMessage(lines).toString('utf8')).toBe(expected);
    expect(Formatter.response(lines[0] ?? '', lines[1] ?? '', lines[2])).toBe(expected);
  });
});

describe('signLines / verifyLines', () => {
  const lines = ['1722850421', 'd824f2e086d3c1df967785d13fcd22ef', '{"code_url":"weixin://x"}'];
  const signature = signLines(platform.privateKey, lines);

  it('round-trips with a fresh RSA 2048 pair', () => {
    expect(Buffer.from(signature, 'base64')).toHaveLength(256);
    expect(verifyLines(platform.publicKey, lines, signature)).toBe(true);
    // A certificate-derived or private KeyObject verifies too (public half).
    expect(verifyLines(platform.privateKey, lines, signature)).toBe(true);
  });

  it('is false when one body byte changes', () => {
    const altered = [...lines.slice(0, 2), '{"code_url":"weixin://y"}'];
    expect(verifyLines(platform.publicKey, altered, signature)).toBe(false);
    expect(verifyLines(platform.publicKey, [...lines.slice(0, 2), `${lines[2]} `], signature)).toBe(
      false,
    );
  });

  it('is false with another key', () => {
    expect(verifyLines(stranger.publicKey, lines, signature)).toBe(false);
    expect(verifyLines(merchant.publicKey, lines, signature)).toBe(false);
  });

  it('is false for WECHATPAY/SIGNTEST/ probes, even when the rest is a valid signature', () => {
    expect(verifyLines(platform.publicKey, lines, `${SIGNTEST_PREFIX}${signature}`)).toBe(false);
    expect(verifyLines(platform.publicKey, lines, `${SIGNTEST_PREFIX}AAAA`)).toBe(false);
  });

  it('is false for malformed signatures without throwing', () => {
    for (const bad of ['', '=', 'A', '!!!!', `${signature}\n`, ` ${signature}`, 'not base64']) {
      expect(verifyLines(platform.publicKey, lines, bad)).toBe(false);
    }
    // Well-formed base64 of the wrong length.
    expect(verifyLines(platform.publicKey, lines, signature.slice(0, 40))).toBe(false);
    expect(verifyLines(platform.publicKey, lines, Buffer.alloc(256).toString('base64'))).toBe(
      false,
    );
  });

  it('signs raw body bytes as they are (no UTF-8 round trip)', () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x7d]);
    const sig = signLines(platform.privateKey, ['1', 'n', body]);
    const exact = Buffer.concat([Buffer.from('1\nn\n'), body, Buffer.from('\n')]);
    expect(verify('sha256', exact, platform.publicKey, Buffer.from(sig, 'base64'))).toBe(true);
    expect(verifyLines(platform.publicKey, ['1', 'n', body], sig)).toBe(true);
    // Decoding the body first replaces the invalid bytes, so the signature no longer matches.
    expect(verifyLines(platform.publicKey, ['1', 'n', body.toString('utf8')], sig)).toBe(false);
    // A Uint8Array view into a larger buffer counts only its own bytes.
    const framed = Buffer.concat([Buffer.from('xx'), body, Buffer.from('yy')]);
    const view = new Uint8Array(framed.buffer, framed.byteOffset + 2, body.length);
    expect(verifyLines(platform.publicKey, ['1', 'n', view], sig)).toBe(true);
  });
});

describe('decryptResource / encryptResource', () => {
  const sealed = encryptResource(API_V3_KEY, TRANSACTION, 'transaction');

  it('opens a sealed empty plaintext (the tag alone)', () => {
    expect(decryptResource(API_V3_KEY, encryptResource(API_V3_KEY, '', 'a'))).toBe('');
  });

  it('refuses a resource whose fields are missing with a PayCryptoError, not a TypeError', () => {
    const missing = { algorithm: 'AEAD_AES_256_GCM', nonce: 'abc' } as unknown as EncryptedResource;
    expect(decryptError(API_V3_KEY, missing).message).toMatch(/missing/);
  });

  it('round-trips, with and without associated data', () => {
    expect(sealed.algorithm).toBe('AEAD_AES_256_GCM');
    expect(Buffer.from(sealed.nonce)).toHaveLength(12);
    expect(decryptResource(API_V3_KEY, sealed)).toBe(TRANSACTION);
    const noAad = encryptResource(API_V3_KEY, '{"a":1}', '');
    expect(decryptResource(API_V3_KEY, noAad)).toBe('{"a":1}');
    expect(decryptResource(API_V3_KEY, { ...noAad, associated_data: undefined })).toBe('{"a":1}');
  });

  it('puts the 16-byte tag after the encrypted bytes (RFC 5116)', () => {
    const plain = Buffer.from(TRANSACTION, 'utf8');
    expect(Buffer.from(sealed.ciphertext, 'base64')).toHaveLength(plain.length + 16);
  });

  const refusals: [string, Buffer, EncryptedResource, RegExp][] = [
    ['an altered tag', API_V3_KEY, flipByte(sealed, -1), /tag does not check/],
    ['altered ciphertext', API_V3_KEY, flipByte(sealed, 0), /tag does not check/],
    ['a wrong API v3 key', OTHER_V3_KEY, sealed, /tag does not check/],
    ['wrong associated data', API_V3_KEY, { ...sealed, associated_data: 'certificate' }, /tag/],
    ['a missing associated data', API_V3_KEY, { ...sealed, associated_data: undefined }, /tag/],
    ['a wrong nonce', API_V3_KEY, { ...sealed, nonce: 'abcdefghijkl' }, /tag does not check/],
    ['another algorithm', API_V3_KEY, { ...sealed, algorithm: 'AEAD_AES_128_GCM' }, /algorithm/],
    ['a short ciphertext', API_V3_KEY, { ...sealed, ciphertext: 'AAAAAAAAAAAAAAAAAAAA' }, /short/],
    ['an empty ciphertext', API_V3_KEY, { ...sealed, ciphertext: '' }, /base64/],
    ['non-base64 ciphertext', API_V3_KEY, { ...sealed, ciphertext: '!!not-base64!!' }, /base64/],
    ['an empty nonce', API_V3_KEY, { ...sealed, nonce: '' }, /nonce/],
    ['a 31-byte key', API_V3_KEY.subarray(1), sealed, /32 bytes/],
  ];

  it.each(refusals)(
    'throws PayCryptoError on %s, without the key in the message',
    (_, key, r, re) => {
      const error = decryptError(key, r);
      expect(error.name).toBe('PayCryptoError');
      expect(error.message).toMatch(re);
      for (const k of [API_V3_KEY, OTHER_V3_KEY]) {
        expect(error.message).not.toContain(k.toString('ascii'));
        expect(error.message).not.toContain(k.toString('base64'));
        expect(error.message).not.toContain(k.toString('hex'));
      }
    },
  );
});

describe('parseAuthorization', () => {
  const fields = {
    mchid: '1900000001',
    nonce_str: 'n0nce',
    signature: 'c2lnbmF0dXJl+/==',
    timestamp: '1722850421',
    serial_no: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  };

  it('reads the five fields in any order', () => {
    const entries = Object.entries(fields);
    for (let shift = 0; shift < entries.length; shift++) {
      const order = [...entries.slice(shift), ...entries.slice(0, shift)].reverse();
      const header = `${AUTH_SCHEME} ${order.map(([k, v]) => `${k}="${v}"`).join(',')}`;
      expect(parseAuthorization(header)).toEqual(fields);
    }
  });

  it('rejects other schemes and missing or empty fields', () => {
    const value = Object.entries(fields)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    expect(parseAuthorization(`${AUTH_SCHEME} ${value}`)).toEqual(fields);
    expect(parseAuthorization(`WECHATPAY2-SM2-WITH-SM3 ${value}`)).toBeUndefined();
    expect(parseAuthorization(`Bearer ${value}`)).toBeUndefined();
    expect(parseAuthorization(`${AUTH_SCHEME.toLowerCase()} ${value}`)).toBeUndefined();
    expect(parseAuthorization(value)).toBeUndefined();
    expect(parseAuthorization('')).toBeUndefined();
    for (const name of Object.keys(fields)) {
      const without = Object.entries(fields).filter(([k]) => k !== name);
      const missing = without.map(([k, v]) => `${k}="${v}"`).join(',');
      expect(parseAuthorization(`${AUTH_SCHEME} ${missing}`)).toBeUndefined();
      expect(parseAuthorization(`${AUTH_SCHEME} ${missing},${name}=""`)).toBeUndefined();
    }
  });
});

describe('nonceStr', () => {
  it('is [0-9A-Za-z] of the asked length, 32 by default', () => {
    expect(nonceStr()).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(nonceStr(12)).toMatch(/^[0-9A-Za-z]{12}$/);
    expect(nonceStr()).not.toBe(nonceStr());
  });
});

// An independent implementation agrees: wechatpay-axios-plugin (TheNorthMemory), on its own keys.
describe('cross-check with wechatpay-axios-plugin', () => {
  const theirMerchantKey = Rsa.fromPkcs8(pemBody(merchant.privatePem));
  const theirMerchantPublic = Rsa.fromSpki(pemBody(merchant.publicPem));
  const theirPlatformKey = Rsa.fromPkcs8(pemBody(platform.privatePem));

  it('(a) a notification built by the package verifies and decrypts in wxhub', () => {
    const timestamp = Formatter.timestamp();
    const nonce = Formatter.nonce();
    const resourceNonce = Formatter.nonce(12);
    const ciphertext = Aes.AesGcm.encrypt(TRANSACTION, API_V3_KEY, resourceNonce, 'transaction');
    const body = notificationBody({
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext,
      nonce: resourceNonce,
      associated_data: 'transaction',
    });
    const signature = Rsa.sign(Formatter.response(timestamp, nonce, body), theirPlatformKey);
    // The raw body bytes as a server receives them (UTF-8, with Chinese in `summary`).
    const raw = Buffer.from(body, 'utf8');
    expect(verifyLines(platform.publicKey, [String(timestamp), nonce, raw], signature)).toBe(true);
    expect(verifyLines(platform.publicKey, [String(timestamp), nonce, body], signature)).toBe(true);
    expect(verifyLines(platform.publicKey, [String(timestamp + 1), nonce, raw], signature)).toBe(
      false,
    );
    expect(verifyLines(merchant.publicKey, [String(timestamp), nonce, raw], signature)).toBe(false);
    expect(decryptResource(API_V3_KEY, resourceOf(raw))).toBe(TRANSACTION);
    expect(JSON.parse(decryptResource(API_V3_KEY, resourceOf(raw)))).toMatchObject({
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
    });
  });

  it('(b) the wxhub Authorization header verifies with the package', () => {
    const signer = {
      mchId: '1900000001',
      serialNo: 'ABC123SERIAL',
      privateKey: merchant.privateKey,
    };
    const body = '{"appid":"wxd678efh567hg6787","description":"Image形象店-深圳腾大-QQ公仔"}';
    const uri = '/v3/pay/transactions/jsapi?lang=zh_CN';
    const header = authorization(signer, 'post', uri, body, 1722850421, 'nonce-abc');
    const parsed = parseAuthorization(header);
    if (parsed === undefined) throw new Error('wxhub header does not parse');
    expect(parsed).toMatchObject({
      mchid: '1900000001',
      nonce_str: 'nonce-abc',
      timestamp: '1722850421',
      serial_no: 'ABC123SERIAL',
    });
    const message = Formatter.request('POST', uri, parsed.timestamp, parsed.nonce_str, body);
    expect(Rsa.verify(message, parsed.signature, theirMerchantPublic)).toBe(true);
    expect(Rsa.verify(message.replace('POST', 'GET'), parsed.signature, theirMerchantPublic)).toBe(
      false,
    );
    // PKCS#1 v1.5 is deterministic: both implementations produce the same signature.
    expect(Rsa.sign(message, theirMerchantKey)).toBe(parsed.signature);

    // GET: empty body, message ends "\n\n".
    const getHeader = authorization(signer, 'GET', '/v3/certificates', '', 1722850421, 'n2');
    const get = parseAuthorization(getHeader);
    if (get === undefined) throw new Error('wxhub GET header does not parse');
    const getMessage = Formatter.request('GET', '/v3/certificates', get.timestamp, 'n2');
    expect(getMessage.endsWith('\n\n')).toBe(true);
    expect(Rsa.verify(getMessage, get.signature, theirMerchantPublic)).toBe(true);

    // Same fields and values; the documented order (mchid, nonce_str, signature, timestamp,
    // serial_no) is that of releases before 0.7.8: 0.9.x emits mchid, serial_no, timestamp,
    // nonce_str, signature. Either order is valid
    // (https://pay.weixin.qq.com/wiki/doc/api_external/ch/wechatpay/wechatpay4_0.shtml).
    const theirs = Formatter.authorization(
      signer.mchId,
      parsed.nonce_str,
      parsed.signature,
      parsed.timestamp,
      signer.serialNo,
    );
    expect(parseAuthorization(theirs)).toEqual(parsed);
    expect(theirs).toBe(
      `${AUTH_SCHEME} mchid="${parsed.mchid}",serial_no="${parsed.serial_no}",timestamp="${parsed.timestamp}",nonce_str="${parsed.nonce_str}",signature="${parsed.signature}"`,
    );
    expect(header).toBe(
      `${AUTH_SCHEME} mchid="${parsed.mchid}",nonce_str="${parsed.nonce_str}",signature="${parsed.signature}",timestamp="${parsed.timestamp}",serial_no="${parsed.serial_no}"`,
    );
  });

  it('(c) paySign agrees in both directions', () => {
    const params = clientPayParams(
      merchant.privateKey,
      'wxd678efh567hg6787',
      'wx201410272009395522657a690389285100',
      1414561699,
      '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
    );
    expect(params).toMatchObject({
      appId: 'wxd678efh567hg6787',
      timeStamp: '1414561699',
      nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
      package: 'prepay_id=wx201410272009395522657a690389285100',
      signType: 'RSA',
    });
    const message = Formatter.joinedByLineFeed(
      params.appId,
      params.timeStamp,
      params.nonceStr,
      params.package,
    );
    expect(message).toBe(
      'wxd678efh567hg6787\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n',
    );
    expect(Rsa.verify(message, params.paySign, theirMerchantPublic)).toBe(true);
    const theirSign = Rsa.sign(message, theirMerchantKey);
    expect(theirSign).toBe(params.paySign);
    const lines = [params.appId, params.timeStamp, params.nonceStr, params.package];
    expect(verifyLines(merchant.publicKey, lines, theirSign)).toBe(true);
    expect(verifyLines(platform.publicKey, lines, theirSign)).toBe(false);
  });

  it('(d) a resource sealed by wxhub opens with the package, byte-identical for one nonce', () => {
    const sealed = encryptResource(API_V3_KEY, TRANSACTION, 'transaction');
    const { ciphertext, nonce, associated_data: aad } = sealed;
    expect(Aes.AesGcm.decrypt(ciphertext, API_V3_KEY, nonce, aad)).toBe(TRANSACTION);
    expect(() => Aes.AesGcm.decrypt(ciphertext, OTHER_V3_KEY, nonce, aad)).toThrow();
    expect(Aes.AesGcm.encrypt(TRANSACTION, API_V3_KEY, nonce, 'transaction')).toBe(ciphertext);
    // Certificate downloads use associated_data "certificate"
    // (https://pay.weixin.qq.com/wiki/doc/api_external/ch/apis/chapter3_2_8.shtml).
    const cert = encryptResource(API_V3_KEY, platform.publicPem, 'certificate');
    expect(Aes.AesGcm.decrypt(cert.ciphertext, API_V3_KEY, cert.nonce, cert.associated_data)).toBe(
      platform.publicPem,
    );
  });
});
