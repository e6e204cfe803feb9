import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../dev/simulator/x509';
import { AppsFileError, parseAppsFile } from './apps';

function problems(value: unknown): string[] {
  try {
    parseAppsFile(typeof value === 'string' ? value : JSON.stringify(value));
  } catch (err) {
    if (err instanceof AppsFileError) return err.problems;
    throw err;
  }
  throw new Error('expected an AppsFileError');
}

const good = {
  name: 'shop-mp',
  kind: 'miniprogram',
  appId: 'wx1234567890abcdef',
  appSecret: 'SECRET-VALUE-123',
};

describe('parseAppsFile', () => {
  it('refuses a forward URL with user info, naming the rule and never the password', () => {
    const withUser = (url: string) => ({ apps: [{ ...good, forward: [{ url }] }] });
    const refused = problems(withUser('https://bot:Pa55w0rd@hooks.example/in'));
    expect(refused).toEqual([
      'apps[0] "shop-mp" forward[0].url: must not carry user:password@ (fetch refuses it and ' +
        'repeats the URL in its error); put a key in the path or query instead',
    ]);
    expect(problems(withUser('https://bot@hooks.example/in'))).toHaveLength(1);
    const pay = { merchants: [{ forward: [{ url: 'https://u:p@shop.example/paid' }] }] };
    expect(problems(pay).join(' ')).toContain('forward[0].url: must not carry user:password@');
    const ok = parseAppsFile(JSON.stringify(withUser('https://hooks.example/in?key=K&to=a@b')));
    expect(ok.apps[0]?.forward[0]?.url).toBe('https://hooks.example/in?key=K&to=a@b');
  });

  it('accepts a minimal app of the docs/api.md shape, with defaults', () => {
    const f = parseAppsFile(JSON.stringify({ apps: [good] }));
    expect(f).toEqual({ apps: [{ ...good, tokenMode: 'stable', forward: [] }], merchants: [] });
  });

  it('reads a wecom app by its WeCom names: corpId, corpSecret and agentId', () => {
    const wecom = {
      name: 'hr-wecom',
      kind: 'wecom',
      corpId: 'ww1234567890abcdef',
      corpSecret: 'CORP-SECRET-VALUE',
      agentId: 1000002,
      token: 'WecomToken1',
      encodingAesKey: 'E'.repeat(43),
    };
    const f = parseAppsFile(JSON.stringify({ apps: [wecom] }));
    expect(f.apps[0]).toEqual({
      name: 'hr-wecom',
      kind: 'wecom',
      appId: 'ww1234567890abcdef',
      appSecret: 'CORP-SECRET-VALUE',
      agentId: 1000002,
      token: 'WecomToken1',
      encodingAesKey: 'E'.repeat(43),
      tokenMode: 'stable',
      forward: [],
    });
    // The console writes the common names back: taken too, and the agentId as digits.
    const { corpId: _c, corpSecret: _s, ...rest } = wecom;
    const written = {
      ...rest,
      appId: wecom.corpId,
      appSecret: wecom.corpSecret,
      agentId: '1000002',
    };
    expect(parseAppsFile(JSON.stringify({ apps: [written] })).apps[0]?.agentId).toBe(1000002);
  });

  it('refuses bad wecom entries naming the WeCom field, never a value', () => {
    const base = { name: 'hr-wecom', kind: 'wecom', corpId: 'ww1234567890abcdef' };
    expect(problems({ apps: [{ ...base, corpId: 'no spaces allowed' }] })).toEqual([
      'apps[0] "hr-wecom" corpId: must be a corp id such as ww… (4 to 64 letters, digits, _ or -)',
    ]);
    expect(problems({ apps: [{ name: 'hr-wecom', kind: 'wecom' }] })).toEqual([
      'apps[0] "hr-wecom" corpId: is required for wecom apps',
    ]);
    expect(problems({ apps: [{ ...base, corpSecret: '' }] })).toEqual([
      'apps[0] "hr-wecom" corpSecret: must not be empty',
    ]);
    expect(problems({ apps: [{ ...base, appId: 'ww1' }] })[0]).toContain(
      'corpId: and appId name the same field',
    );
    for (const agentId of [0, -1, 1.5, 'abc', 2 ** 31]) {
      expect(problems({ apps: [{ ...base, agentId }] })).toEqual([
        'apps[0] "hr-wecom" agentId: must be the app\'s AgentId (a positive integer)',
      ]);
    }
    expect(problems({ apps: [{ ...good, agentId: 1 }] })).toEqual([
      'apps[0] "shop-mp" agentId: applies to wecom apps only',
    ]);
    expect(problems({ apps: [{ ...base, messageMode: 'safe' }] })[0]).toContain(
      'messageMode: applies to official, miniprogram, component apps only',
    );
    const secret = problems({ apps: [{ ...base, corpSecret: 123456789 }] }).join(' ');
    expect(secret).toContain('corpSecret');
    expect(secret).not.toContain('123456789');
  });

  it('checks messageMode: a known mode, an AES key unless plain, and a kind that gets pushes', () => {
    const key = 'A'.repeat(43);
    const f = parseAppsFile(
      JSON.stringify({
        apps: [{ ...good, token: 'tok', encodingAesKey: key, messageMode: 'compatible' }],
      }),
    );
    expect(f.apps[0]?.messageMode).toBe('compatible');
    expect(problems({ apps: [{ ...good, messageMode: 'safe' }] })).toEqual([
      'apps[0] "shop-mp" messageMode: safe needs encodingAesKey',
    ]);
    expect(problems({ apps: [{ ...good, messageMode: 'secret' }] })).toEqual([
      'apps[0] "shop-mp" messageMode: must be plain, compatible or safe',
    ]);
    expect(problems({ apps: [{ ...good, kind: 'douyin', messageMode: 'plain' }] })).toEqual([
      'apps[0] "shop-mp" messageMode: applies to official, miniprogram, component apps only',
    ]);
  });

  it('checks the delivery kinds: appSecret required, devId for fengniao only, no push fields', () => {
    const fn = { name: 'fn', kind: 'fengniao', appId: '6236', appSecret: 's', devId: '8899' };
    expect(parseAppsFile(JSON.stringify({ apps: [fn] })).apps[0]).toMatchObject({ devId: '8899' });
    const ss = { name: 'ss', kind: 'shansong', appId: 'ss123', appSecret: 's' };
    expect(parseAppsFile(JSON.stringify({ apps: [ss] })).apps[0]).toMatchObject({
      kind: 'shansong',
    });
    expect(problems({ apps: [{ ...ss, appSecret: undefined }] })).toEqual([
      'apps[0] "ss" appSecret: is required for shansong apps',
    ]);
    expect(problems({ apps: [{ ...ss, devId: '1' }] })).toEqual([
      'apps[0] "ss" devId: applies to fengniao apps only',
    ]);
    expect(problems({ apps: [{ ...fn, token: 'abc' }] })).toEqual([
      'apps[0] "fn" token: applies to WeChat apps only, not fengniao',
    ]);
    expect(problems({ apps: [{ ...fn, devId: 'has space' }] })).toEqual([
      'apps[0] "fn" devId: must be the developer id (digits)',
    ]);
  });

  it('checks authRedirectUrl: https (http only for localhost), components only', () => {
    const comp = { ...good, kind: 'component' };
    for (const url of ['https://shop.example.com/done?x=1', 'http://localhost:8080/done']) {
      expect(
        parseAppsFile(JSON.stringify({ apps: [{ ...comp, authRedirectUrl: url }] })).apps[0],
      ).toMatchObject({ authRedirectUrl: url });
    }
    for (const url of ['http://shop.example.com/done', 'javascript:alert(1)', '/done']) {
      expect(problems({ apps: [{ ...comp, authRedirectUrl: url }] })).toEqual([
        'apps[0] "shop-mp" authRedirectUrl: must be an https URL (http only for localhost)',
      ]);
    }
    expect(problems({ apps: [{ ...good, authRedirectUrl: 'https://shop.example.com/' }] })).toEqual(
      ['apps[0] "shop-mp" authRedirectUrl: applies to component apps only'],
    );
  });

  it('checks oauthRedirects and oauthComponent: URL entries, official apps only', () => {
    const oa = { ...good, kind: 'official' };
    const entries = ['https://shop.example.com/oauth/', 'http://localhost:8080/done'];
    const f = parseAppsFile(
      JSON.stringify({ apps: [{ ...oa, oauthRedirects: entries, oauthComponent: 'platform' }] }),
    );
    expect(f.apps[0]).toMatchObject({ oauthRedirects: entries, oauthComponent: 'platform' });
    for (const bad of [
      'http://shop.example.com/',
      'https://shop.example.com/done?x=1',
      'https://shop.example.com/done#x',
      'https://*.example.com/',
      'https://user:pw@shop.example.com/',
      '/done',
    ]) {
      const p = problems({ apps: [{ ...oa, oauthRedirects: [bad] }] });
      expect(p).toHaveLength(1);
      expect(p[0]).toMatch(/^apps\[0\] "shop-mp" oauthRedirects\[0\]: must /);
      expect(p[0]).not.toContain(bad);
    }
    expect(problems({ apps: [{ ...good, oauthRedirects: entries }] })).toEqual([
      'apps[0] "shop-mp" oauthRedirects: applies to official apps only',
    ]);
    expect(problems({ apps: [{ ...good, oauthComponent: 'platform' }] })).toEqual([
      'apps[0] "shop-mp" oauthComponent: applies to official apps only',
    ]);
  });

  it('reads "enabled" of apps and merchants: a boolean, absent meaning enabled', () => {
    const f = parseAppsFile(JSON.stringify({ apps: [{ ...good, enabled: false }] }));
    expect(f.apps[0]?.enabled).toBe(false);
    expect(parseAppsFile(JSON.stringify({ apps: [good] })).apps[0]?.enabled).toBeUndefined();
    expect(problems({ apps: [{ ...good, enabled: 'no' }] })).toEqual([
      'apps[0] "shop-mp" enabled: Invalid input: expected boolean, received string',
    ]);
    expect(problems({ merchants: [{ name: 'pay', enabled: 0 }] })).toContain(
      'merchants[0] "pay" enabled: Invalid input: expected boolean, received number',
    );
  });

  it('reads a wecom-suite with its own fields, stored as an app; names each bad or missing one', () => {
    const suite = {
      name: 'crm-suite',
      kind: 'wecom-suite',
      suiteId: 'ww0123456789suite',
      suiteSecret: 'SUITE-SECRET-VALUE',
      token: 'SuiteToken1',
      encodingAesKey: 'A'.repeat(43),
      providerCorpId: 'ww0123456789corp',
    };
    const parsed = parseAppsFile(JSON.stringify({ apps: [suite] }));
    const stored = {
      name: 'crm-suite',
      kind: 'wecom-suite',
      appId: 'ww0123456789suite',
      appSecret: 'SUITE-SECRET-VALUE',
      token: 'SuiteToken1',
      encodingAesKey: 'A'.repeat(43),
      providerCorpId: 'ww0123456789corp',
      tokenMode: 'classic',
      forward: [],
    };
    expect(parsed.apps).toEqual([stored]);
    // What the hub writes back (npm run dev, the admin API) reads the same.
    expect(parseAppsFile(JSON.stringify(parsed)).apps).toEqual([stored]);
    const { providerCorpId: _, ...noProvider } = suite;
    expect(problems({ apps: [{ ...noProvider, messageMode: 'safe', token: 'x' }] })).toEqual([
      'apps[0] "crm-suite" token: must be 3 to 32 letters or digits',
      'apps[0] "crm-suite" providerCorpId: Invalid input: expected string, received undefined',
      'apps[0] "crm-suite": Unrecognized key: "messageMode"',
    ]);
    const both = problems({ apps: [{ ...suite, appSecret: 'OTHER-SECRET' }] });
    expect(both).toEqual(['apps[0] "crm-suite": Unrecognized key: "appSecret"']);
    expect(JSON.stringify(both)).not.toContain('SECRET');
  });

  it('reports malformed JSON', () => {
    expect(problems('{"apps": [')).toEqual(['not valid JSON']);
  });

  it('names the entry and field of an unknown kind, a bad name and a bad AES key', () => {
    expect(problems({ apps: [{ ...good, kind: 'weibo' }] })).toEqual([
      'apps[0] "shop-mp" kind: must be one of official, miniprogram, component, wecom, douyin, fengniao, shansong, wecom-suite',
    ]);
    expect(problems({ apps: [{ ...good, name: 'Shop MP!' }] })).toEqual([
      'apps[0] name: must match [a-z0-9][a-z0-9_-]{0,63} (lower case, digits, _ and -)',
    ]);
    expect(problems({ apps: [good, { ...good, name: 'oa', encodingAesKey: 'short' }] })).toEqual([
      'apps[1] "oa" encodingAesKey: must be exactly 43 letters or digits',
    ]);
  });

  it('never echoes a value, even for a wrong type', () => {
    const text = problems({ apps: [{ ...good, appSecret: 12345678, token: 'bad token!' }] }).join(
      '\n',
    );
    expect(text).toContain('appSecret');
    expect(text).toContain('token');
    expect(text).not.toContain('12345678');
    expect(text).not.toContain('bad token!');
  });

  it('rejects unknown fields (typos) and duplicate names', () => {
    expect(problems({ apps: [{ ...good, tokenmode: 'classic' }] }).join()).toContain(
      'apps[0] "shop-mp"',
    );
    expect(problems({ apps: [good, good] })).toEqual([
      'apps: name "shop-mp" appears more than once',
    ]);
    expect(problems({ apps: [], extra: 1 }).join()).toContain('file');
  });

  it('validates merchants: key lengths, PEM keys, public key id with its key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const merchant = {
      name: 'main',
      mchId: '1900000109',
      apiV3Key: 'a'.repeat(32),
      serialNo: 'ABCDEF0123456789',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyId: 'PUB_KEY_ID_0114232',
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    expect(parseAppsFile(JSON.stringify({ merchants: [merchant] })).merchants).toHaveLength(1);
    expect(
      problems({ merchants: [{ ...merchant, apiV3Key: 'short', privateKey: 'nope' }] }),
    ).toEqual([
      'merchants[0] "main" apiV3Key: must be exactly 32 bytes',
      'merchants[0] "main" privateKey: must be a PEM private key',
    ]);
    const { publicKey: _omit, ...noKey } = merchant;
    expect(problems({ merchants: [noKey] })).toEqual([
      'merchants[0] "main" publicKey: publicKeyId and publicKey go together',
    ]);
  });

  it('takes a platform certificate serial from the certificate, refusing a different one', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const now = Date.now();
    const cert = createSelfSignedCertificate({
      publicKey,
      privateKey,
      notBefore: now - 86_400_000,
      notAfter: now + 86_400_000,
    });
    const other = createSelfSignedCertificate({
      publicKey,
      privateKey,
      notBefore: now - 86_400_000,
      notAfter: now + 86_400_000,
    });
    const merchant = {
      name: 'main',
      mchId: '1900000109',
      apiV3Key: 'a'.repeat(32),
      serialNo: 'ABCDEF0123456789',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const withSerial = (serialNo: string) => ({
      merchants: [{ ...merchant, platformCertificates: [{ serialNo, certificate: cert.pem }] }],
    });
    // A DER integer printed with its sign byte, in lower case: the same serial.
    for (const written of [`00${cert.serialNo.toLowerCase()}`, cert.serialNo]) {
      const [parsed] = parseAppsFile(JSON.stringify(withSerial(written))).merchants;
      expect(parsed?.platformCertificates.map((c) => c.serialNo)).toEqual([cert.serialNo]);
    }
    expect(problems(withSerial(other.serialNo))).toEqual([
      `merchants[0] "main" platformCertificates[0].serialNo: is ${other.serialNo} but the ` +
        `certificate's serial is ${cert.serialNo}`,
    ]);
  });
});
