import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  aesKeyOf,
  decryptMessage,
  encryptMessage,
  MessageCryptoError,
  signatureMatches,
  wechatSignature,
} from './message-crypto';

// The official Mini Program message-push example
// (https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html).
const TOKEN = 'AAAAA';
const KEY = aesKeyOf('A'.repeat(43));
const APPID = 'wxba5fad812f8e6fb9';
const ENCRYPT =
  '+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=';
const MESSAGE =
  '{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}';

describe('message signatures (official example)', () => {
  it('signs URL verification, plaintext and safe-mode pushes', () => {
    expect(wechatSignature(TOKEN, '1714036504', '1514711492')).toBe(
      'f464b24fc39322e44b38aa78f5edd27bd1441696',
    );
    expect(wechatSignature(TOKEN, '1714037059', '486452656')).toBe(
      '899cf89e464efb63f54ddac96b0a0a235f53aa78',
    );
    expect(wechatSignature(TOKEN, '1714112445', '415670741')).toBe(
      '6c5c811b55cc85e0e1b54100749188c20beb3f5d',
    );
    expect(wechatSignature(TOKEN, '1714112445', '415670741', ENCRYPT)).toBe(
      '046e02f8204d34f8ba5fa3b1db94908f3df2e9b3',
    );
  });

  it('compares signatures exactly, case-insensitively on the presented hex', () => {
    const s = wechatSignature(TOKEN, '1', '2');
    expect(signatureMatches(s, s)).toBe(true);
    expect(signatureMatches(s, s.toUpperCase())).toBe(true);
    expect(signatureMatches(s, `${s}0`)).toBe(false);
    expect(signatureMatches(s, s.slice(0, -1))).toBe(false);
    expect(signatureMatches(s, undefined)).toBe(false);
  });
});

describe('message AES (official example)', () => {
  it('decrypts the example push and checks its appid', () => {
    expect(decryptMessage(KEY, ENCRYPT, APPID)).toBe(MESSAGE);
  });

  it('reproduces the example encrypted reply byte for byte', () => {
    const encrypt = encryptMessage(
      KEY,
      '{"demo_resp":"good luck"}',
      APPID,
      Buffer.from('707722b803182950'),
    );
    expect(encrypt).toBe(
      'ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==',
    );
    expect(wechatSignature(TOKEN, '1713424427', '415670741', encrypt)).toBe(
      '1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1',
    );
  });

  it('round-trips messages whose length lands on and around the 32-byte blocks', () => {
    const key = aesKeyOf('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG');
    for (let n = 0; n < 80; n++) {
      const msg = `<xml>${'字x'.repeat(n)}</xml>`;
      expect(
        decryptMessage(key, encryptMessage(key, msg, 'wx1234567890abcdef'), 'wx1234567890abcdef'),
      ).toBe(msg);
    }
  });

  const reason = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof MessageCryptoError ? e.reason : `other: ${String(e)}`;
    }
    return 'no error';
  };

  it('refuses a wrong appid, bad base64, partial blocks, tampering and bad padding', () => {
    expect(reason(() => decryptMessage(KEY, ENCRYPT, 'wx0000000000000000'))).toBe('WRONG_APPID');
    expect(reason(() => decryptMessage(KEY, ENCRYPT, APPID.slice(0, -1)))).toBe('WRONG_APPID');
    expect(reason(() => decryptMessage(KEY, `${ENCRYPT.slice(0, -4)}!!!=`, APPID))).toBe(
      'BAD_ENCODING',
    );
    expect(reason(() => decryptMessage(KEY, Buffer.alloc(48).toString('base64'), APPID))).toBe(
      'BAD_ENCODING',
    );
    expect(reason(() => decryptMessage(KEY, '', APPID))).toBe('BAD_ENCODING');
    // Flip a bit in the last block: the padding no longer checks out.
    const bytes = Buffer.from(ENCRYPT, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
    expect(['BAD_PADDING', 'WRONG_APPID', 'BAD_LENGTH']).toContain(
      reason(() => decryptMessage(KEY, bytes.toString('base64'), APPID)),
    );
    // A valid encryption whose padding byte is out of range.
    const raw = Buffer.alloc(64, 0);
    raw[63] = 33;
    const c = createCipheriv('aes-256-cbc', KEY, KEY.subarray(0, 16));
    c.setAutoPadding(false);
    const badPad = Buffer.concat([c.update(raw), c.final()]).toString('base64');
    expect(reason(() => decryptMessage(KEY, badPad, APPID))).toBe('BAD_PADDING');
  });

  it('refuses an EncodingAESKey that is not 43 base64 characters', () => {
    expect(reason(() => aesKeyOf('A'.repeat(42)))).toBe('BAD_KEY');
    expect(reason(() => aesKeyOf(`${'A'.repeat(42)}!`))).toBe('BAD_KEY');
  });
});
