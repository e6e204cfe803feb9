import { describe, expect, it } from 'vitest';
import { cosAuthorization, cosEncode, cosSignatureParts } from './sign';

describe('Tencent COS request signature (q-sign-algorithm=sha1)', () => {
  it('reproduces the official PUT Object example', () => {
    // https://cloud.tencent.com/document/product/436/7778, "签名示例" (PUT Object with 7 headers).
    const input = {
      secretId: 'AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q',
      secretKey: 'BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz',
      method: 'PUT',
      pathname: '/exampleobject(腾讯云)',
      params: {},
      headers: {
        Date: 'Thu, 16 May 2019 06:45:51 GMT',
        Host: 'examplebucket-1250000000.cos.ap-beijing.myqcloud.com',
        'Content-Type': 'text/plain',
        'Content-Length': '13',
        'Content-MD5': 'mQ/fVh815F3k6TAUm8m0eg==',
        'x-cos-acl': 'private',
        'x-cos-grant-read': 'uin="100000000011"',
      },
      keyTime: '1557989151;1557996351',
    };
    const p = cosSignatureParts(input);
    expect(p.signKey).toBe('eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f');
    expect(p.httpString).toBe(
      'put\n/exampleobject(腾讯云)\n\n' +
        'content-length=13&content-md5=mQ%2FfVh815F3k6TAUm8m0eg%3D%3D&content-type=text%2Fplain' +
        '&date=Thu%2C%2016%20May%202019%2006%3A45%3A51%20GMT' +
        '&host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com' +
        '&x-cos-acl=private&x-cos-grant-read=uin%3D%22100000000011%22\n',
    );
    expect(p.httpStringSha1).toBe('8b2751e77f43a0995d6e9eb9477f4b685cca4172');
    expect(p.signature).toBe('3b8851a11a569213c17ba8fa7dcf2abec6935172');
    expect(cosAuthorization(input)).toBe(
      'q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q' +
        '&q-sign-time=1557989151;1557996351&q-key-time=1557989151;1557996351' +
        '&q-header-list=content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read' +
        '&q-url-param-list=&q-signature=3b8851a11a569213c17ba8fa7dcf2abec6935172',
    );
  });

  it("encodes as COS's UrlEncode does", () => {
    expect(cosEncode("a b!'()*~/")).toBe('a%20b%21%27%28%29%2A~%2F');
  });
});
