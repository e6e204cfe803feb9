import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encryptOpenData } from '../../dev/simulator/open-data';
import { AppError } from '../http/errors';
import { decryptOpenData } from './open-data';

// The example of WeChat's "开放数据校验与解密" page, from the sample code it links (aes-sample,
// https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html).
const OFFICIAL = {
  appId: 'wx4f4bc4dec97d474b',
  sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==',
  encryptedData:
    'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+' +
    '3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6' +
    '/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs' +
    '8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns' +
    '/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG' +
    '20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==',
  iv: 'r7BXXKkLb8qrSNn05n0qiA==',
};

/** The AppError code `fn` throws, and its message. */
function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

/** AES-128-CBC without Node's padding: `plain` must be whole blocks already. */
function rawEncrypt(key: string, iv: string, plain: Buffer): string {
  const c = createCipheriv('aes-128-cbc', Buffer.from(key, 'base64'), Buffer.from(iv, 'base64'));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

describe('decryptOpenData', () => {
  it("decrypts WeChat's official example", () => {
    const data = decryptOpenData(
      OFFICIAL.sessionKey,
      OFFICIAL.encryptedData,
      OFFICIAL.iv,
      OFFICIAL.appId,
    );
    expect(data).toMatchObject({
      openId: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
      nickName: 'Band',
      unionId: 'ocMvos6NjeKLIBqg5Mr9QjxrP1FA',
      watermark: { timestamp: 1477314187, appid: 'wx4f4bc4dec97d474b' },
    });
  });

  it('refuses the official example for another appid, without echoing the plaintext', () => {
    const r = refusal(() =>
      decryptOpenData(
        OFFICIAL.sessionKey,
        OFFICIAL.encryptedData,
        OFFICIAL.iv,
        'wx0000000000000000',
      ),
    );
    expect(r.code).toBe('WATERMARK_MISMATCH');
    expect(r.message).not.toContain('Band');
    expect(r.message).not.toContain('wx4f4bc4dec97d474b');
  });

  it('refuses a tampered block of the official example', () => {
    for (const at of [0, 100, 383, 399]) {
      const bytes = Buffer.from(OFFICIAL.encryptedData, 'base64');
      bytes[at] = (bytes[at] ?? 0) ^ 0x01;
      const r = refusal(() =>
        decryptOpenData(OFFICIAL.sessionKey, bytes.toString('base64'), OFFICIAL.iv, OFFICIAL.appId),
      );
      expect(r.code, `byte ${at}`).toMatch(/^(DECRYPT_FAILED|WATERMARK_MISMATCH)$/);
      expect(r.message).not.toContain('Band');
    }
  });

  it('refuses bad PKCS#7 padding, strictly', () => {
    const key = OFFICIAL.sessionKey;
    const iv = OFFICIAL.iv;
    const json = JSON.stringify({ a: 1, watermark: { appid: OFFICIAL.appId, timestamp: 1 } });
    const body = Buffer.from(json, 'utf8');
    const n = 16 - (body.length % 16);
    const good = Buffer.concat([body, Buffer.alloc(n, n)]);
    expect(decryptOpenData(key, rawEncrypt(key, iv, good), iv, OFFICIAL.appId)).toMatchObject({
      a: 1,
    });
    const cases = {
      'one pad byte differs': Buffer.concat([body, Buffer.alloc(n - 1, n), Buffer.from([n + 1])]),
      'zero pad': Buffer.concat([body, Buffer.alloc(n, 0)]),
      'pad of 17': Buffer.concat([body, Buffer.alloc(n, 17)]),
    };
    // The first byte of a pad longer than 1 is changed (a lax check reads only the last byte).
    const lax = Buffer.from(good);
    lax[lax.length - n] = 0;
    for (const [name, plain] of Object.entries({ ...cases, 'first pad byte zero': lax })) {
      const r = refusal(() => decryptOpenData(key, rawEncrypt(key, iv, plain), iv, OFFICIAL.appId));
      expect(r, name).toMatchObject({ code: 'DECRYPT_FAILED' });
      expect(r.message).toContain('bad padding');
    }
  });

  it('refuses data that is not whole blocks, and a watermark without timestamp', () => {
    const short = Buffer.from(OFFICIAL.encryptedData, 'base64').subarray(0, 40).toString('base64');
    expect(refusal(() => decryptOpenData(OFFICIAL.sessionKey, short, OFFICIAL.iv, 'x')).code).toBe(
      'DECRYPT_FAILED',
    );
    const noTime = encryptOpenData(OFFICIAL.sessionKey, OFFICIAL.appId, {}, 1);
    // Re-encrypt with the watermark's timestamp removed.
    const plain = JSON.stringify({ watermark: { appid: OFFICIAL.appId } });
    const c = createCipheriv(
      'aes-128-cbc',
      Buffer.from(OFFICIAL.sessionKey, 'base64'),
      Buffer.from(noTime.iv, 'base64'),
    );
    const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]).toString('base64');
    const r = refusal(() => decryptOpenData(OFFICIAL.sessionKey, data, noTime.iv, OFFICIAL.appId));
    expect(r).toEqual({ code: 'WATERMARK_MISMATCH', message: 'watermark.timestamp is missing' });
  });

  it("reads what the simulator's client encrypts", () => {
    const sealed = encryptOpenData(
      OFFICIAL.sessionKey,
      'wxsim',
      { nickName: '微信用户' },
      1_700_000_000,
    );
    expect(decryptOpenData(OFFICIAL.sessionKey, sealed.encryptedData, sealed.iv, 'wxsim')).toEqual({
      nickName: '微信用户',
      watermark: { timestamp: 1_700_000_000, appid: 'wxsim' },
    });
  });
});
