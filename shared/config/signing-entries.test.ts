import { describe, expect, it } from 'vitest';
import { AppsFileError, parseAppsFile } from './apps';

function problems(value: unknown): string[] {
  try {
    parseAppsFile(JSON.stringify(value));
  } catch (err) {
    if (err instanceof AppsFileError) return err.problems;
    throw err;
  }
  throw new Error('expected an AppsFileError');
}

const sms = {
  name: 'login-sms',
  accessKeyId: 'LTAI5tAbCdEf0123',
  accessKeySecret: 'TOP-SECRET-SMS',
  signName: '示例',
  templateCode: 'SMS_153055065',
};
const cos = {
  name: 'avatars',
  secretId: 'AKIDabcdef0123456789',
  secretKey: 'TOP-SECRET-COS',
  bucket: 'examplebucket-1250000000',
  region: 'ap-guangzhou',
  prefix: 'avatars/',
};

describe('apps file: sms senders and cos buckets', () => {
  it('reads them with their defaults', () => {
    const f = parseAppsFile(JSON.stringify({ sms: [sms], cos: [cos] }));
    expect(f.sms).toEqual([
      { ...sms, codeParam: 'code', limits: { perMinute: 1, perHour: 5, perDay: 10 } },
    ]);
    expect(f.cos).toEqual([{ ...cos, maxBytes: 20 * 1024 * 1024, expiresSeconds: 600 }]);
  });

  it('names every bad field and duplicate, never a secret', () => {
    const found = problems({
      sms: [{ ...sms, templateCode: 'nope', limits: { perMinute: 0 } }, sms, sms],
      cos: [{ ...cos, prefix: '/abs/', bucket: 'nobucketid', extra: 1 }],
    });
    expect(found).toEqual([
      'sms[0] "login-sms" templateCode: must be a template code such as SMS_153055065',
      'sms[0] "login-sms" limits.perMinute: Too small: expected number to be >=1',
      'sms: name "login-sms" appears more than once',
      'cos[0] "avatars" bucket: must be <bucket name>-<appid>, e.g. examplebucket-1250000000',
      'cos[0] "avatars" prefix: must be empty or a relative folder ending in "/", e.g. uploads/',
      'cos[0] "avatars": Unrecognized key: "extra"',
    ]);
    expect(found.join('\n')).not.toContain('TOP-SECRET');
  });
});
