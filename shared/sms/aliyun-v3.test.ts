import { describe, expect, it } from 'vitest';
import {
  acs3Authorization,
  acs3Parts,
  acsEncode,
  canonicalQuery,
  contentSha256,
} from './aliyun-v3';

describe('Aliyun signature V3 (ACS3-HMAC-SHA256)', () => {
  it('reproduces the official RunInstances example byte for byte', () => {
    // https://help.aliyun.com/document_detail/2593177.html, "签名示例".
    const req = {
      method: 'POST',
      path: '/',
      query: {
        ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd',
        RegionId: 'cn-shanghai',
      },
      headers: {
        host: 'ecs.cn-shanghai.aliyuncs.com',
        'x-acs-action': 'RunInstances',
        'x-acs-version': '2014-05-26',
        'x-acs-date': '2023-10-26T10:22:32Z',
        'x-acs-signature-nonce': '3156853299f313e23d1673dc12e1703d',
        'x-acs-content-sha256': contentSha256(''),
      },
      body: '',
    };
    const parts = acs3Parts(req, 'YourAccessKeySecret');
    expect(parts.canonicalRequest).toBe(
      [
        'POST',
        '/',
        'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
        'host:ecs.cn-shanghai.aliyuncs.com',
        'x-acs-action:RunInstances',
        'x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'x-acs-date:2023-10-26T10:22:32Z',
        'x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d',
        'x-acs-version:2014-05-26',
        '',
        'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    );
    expect(parts.hashedCanonicalRequest).toBe(
      '7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259',
    );
    expect(parts.signature).toBe(
      '06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0',
    );
    expect(acs3Authorization(req, 'YourAccessKeyId', 'YourAccessKeySecret')).toBe(
      'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,' +
        'SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,' +
        'Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0',
    );
  });

  it('encodes the query as RFC 3986 and sorts it by encoded name', () => {
    expect(acsEncode("a b*~!'()中")).toBe('a%20b%2A~%21%27%28%29%E4%B8%AD');
    expect(canonicalQuery({ b: '2', TemplateParam: '{"code":"1"}', A: '' })).toBe(
      'A=&TemplateParam=%7B%22code%22%3A%221%22%7D&b=2',
    );
  });
});
