import { describe, expect, it } from 'vitest';
import { buildJssdkConfig, jssdkSignature, randomNonce, signedUrl } from './jssdk';

describe('JS-SDK signature', () => {
  it("matches the JS-SDK appendix's worked example", () => {
    expect(
      jssdkSignature({
        ticket:
          'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg',
        nonceStr: 'Wm3WZYTPz0wzccnW',
        timestamp: 1414587457,
        url: 'http://mp.weixin.qq.com?params=value',
      }),
    ).toBe('0f9de62fce790f9a083d5c99e95740ceb90c27ed');
  });

  it('signs the URL without the fragment and raw (not escaped)', () => {
    const base = { ticket: 't', nonceStr: 'n', timestamp: 1 };
    expect(jssdkSignature({ ...base, url: 'https://a.cn/p?x=1&y=中#/route?z=2' })).toBe(
      jssdkSignature({ ...base, url: 'https://a.cn/p?x=1&y=中' }),
    );
    expect(signedUrl('https://a.cn/#x')).toBe('https://a.cn/');
  });

  it('builds config fields with a seconds timestamp and a 16-character nonce', () => {
    const c = buildJssdkConfig('ticket', 'https://a.cn/', 1_700_000_000_999);
    expect(c.timestamp).toBe(1_700_000_000);
    expect(c.nonceStr).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(c.signature).toBe(
      jssdkSignature({
        ticket: 'ticket',
        nonceStr: c.nonceStr,
        timestamp: c.timestamp,
        url: 'https://a.cn/',
      }),
    );
    expect(randomNonce()).not.toBe(randomNonce());
  });
});
