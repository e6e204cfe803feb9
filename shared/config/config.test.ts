import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config';

const KEY = randomBytes(32).toString('base64');

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      database: { dialect: 'sqlite', path: '.data/wxhub.db' },
      apps: undefined,
      apiKeys: [],
      trustWxSource: false,
      secretKeys: undefined,
      wechatApiBase: 'https://api.weixin.qq.com',
      wechatPayApiBase: 'https://api.mch.weixin.qq.com',
      wechatMpBase: 'https://mp.weixin.qq.com',
      wechatOpenBase: 'https://open.weixin.qq.com',
      douyinApiBase: 'https://developer.toutiao.com',
      aliyunSmsEndpoint: 'https://dysmsapi.aliyuncs.com',
      cosEndpoint: undefined,
      publicUrl: undefined,
      refreshAheadSeconds: undefined,
      port: 3000,
      logLevel: 'info',
      bodyLimitBytes: 1_048_576,
    });
  });

  it('reads the proxy limits, defaulting to 20 MiB bodies and 64 MiB JSON answers', () => {
    expect(parseConfig({})).toMatchObject({
      proxyBodyLimitBytes: 20 * 1024 * 1024,
      proxyMaxBytes: 64 * 1024 * 1024,
    });
    const c = parseConfig({ WXHUB_PROXY_BODY_LIMIT_BYTES: '1000', WXHUB_PROXY_MAX_BYTES: '2000' });
    expect(c).toMatchObject({ proxyBodyLimitBytes: 1000, proxyMaxBytes: 2000 });
    const bad = problems({ WXHUB_PROXY_BODY_LIMIT_BYTES: '0', WXHUB_PROXY_MAX_BYTES: 'lots' });
    expect(bad.map((p) => p.split(':')[0]).sort()).toEqual([
      'WXHUB_PROXY_BODY_LIMIT_BYTES',
      'WXHUB_PROXY_MAX_BYTES',
    ]);
  });

  it('reads every variable of the contract', () => {
    const c = parseConfig({
      DATABASE_URL: 'mysql://u:p@db:3307/hub',
      WXHUB_APPS: '@apps.json',
      WXHUB_API_KEYS: 'key-aaaaaaaaaaaaaaaa, key-bbbbbbbbbbbbbbbb',
      WXHUB_TRUST_WX_SOURCE: '1',
      WXHUB_SECRET_KEY: KEY,
      WECHAT_API_BASE: 'http://api.weixin.qq.com/',
      WECHATPAY_API_BASE: 'http://127.0.0.1:9/',
      WECHAT_MP_BASE: 'http://127.0.0.1:8/',
      WECHAT_OPEN_BASE: 'http://127.0.0.1:7/',
      WXHUB_PUBLIC_URL: 'https://hub.example.com/',
      WXHUB_REFRESH_AHEAD_SECONDS: '300',
      PORT: '80',
      LOG_LEVEL: 'debug',
    });
    expect(c).toMatchObject({
      database: { dialect: 'mysql', url: 'mysql://u:p@db:3307/hub' },
      apps: { kind: 'file', path: 'apps.json' },
      apiKeys: ['key-aaaaaaaaaaaaaaaa', 'key-bbbbbbbbbbbbbbbb'],
      trustWxSource: true,
      wechatApiBase: 'http://api.weixin.qq.com',
      wechatPayApiBase: 'http://127.0.0.1:9',
      wechatMpBase: 'http://127.0.0.1:8',
      wechatOpenBase: 'http://127.0.0.1:7',
      publicUrl: 'https://hub.example.com',
      refreshAheadSeconds: 300,
      port: 80,
      logLevel: 'debug',
    });
    expect(c.secretKeys?.[0]?.length).toBe(32);
  });

  it('reads WXHUB_EXPOSE, serving every route by default', () => {
    expect(parseConfig({}).expose).toBe('all');
    for (const expose of ['all', 'public', 'internal']) {
      expect(parseConfig({ WXHUB_EXPOSE: expose }).expose).toBe(expose);
    }
    expect(parseConfig({ WXHUB_EXPOSE: 'internal', WXHUB_TRUST_WX_SOURCE: '1' })).toMatchObject({
      expose: 'internal',
      trustWxSource: true,
    });
    const bad = problems({ WXHUB_EXPOSE: 'everything-secret' });
    expect(bad.map((p) => p.split(':')[0])).toEqual(['WXHUB_EXPOSE']);
    expect(bad.join('\n')).not.toContain('everything-secret');
  });

  it('refuses to trust x-wx-source on a public service', () => {
    for (const trust of ['1', 'true']) {
      const bad = problems({ WXHUB_EXPOSE: 'public', WXHUB_TRUST_WX_SOURCE: trust });
      expect(bad).toEqual([
        'WXHUB_TRUST_WX_SOURCE: must be 0 with WXHUB_EXPOSE=public (x-wx-source can be trusted ' +
          'only on a service with public access off)',
      ]);
    }
    expect(parseConfig({ WXHUB_EXPOSE: 'public', WXHUB_TRUST_WX_SOURCE: '0' })).toMatchObject({
      expose: 'public',
      trustWxSource: false,
    });
  });

  it("builds the MySQL URL from CloudRun's variables, escaping the password", () => {
    const c = parseConfig({
      MYSQL_ADDRESS: '10.0.0.5:3306',
      MYSQL_USERNAME: 'root',
      MYSQL_PASSWORD: 'p@ss:w/rd',
      WXHUB_SECRET_KEY: KEY,
    });
    expect(c.database).toEqual({
      dialect: 'mysql',
      url: 'mysql://root:p%40ss%3Aw%2Frd@10.0.0.5:3306/wxhub',
    });
  });

  it('names every bad key at once and never a value', () => {
    const err = problems({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      WECHAT_API_BASE: 'ftp://nope-value',
      WECHAT_MP_BASE: 'mp.weixin.qq.com/nope-value',
      WECHAT_OPEN_BASE: 'open.weixin.qq.com/nope-value',
      WXHUB_TRUST_WX_SOURCE: 'yes-please',
      DATABASE_URL: 'postgres://secret-pass@x/db',
      WXHUB_API_KEYS: 'short-key',
    });
    const text = err.join('\n');
    for (const key of [
      'PORT',
      'LOG_LEVEL',
      'WECHAT_API_BASE',
      'WECHAT_MP_BASE',
      'WECHAT_OPEN_BASE',
      'WXHUB_TRUST_WX_SOURCE',
      'DATABASE_URL',
      'WXHUB_API_KEYS',
    ]) {
      expect(text).toContain(key);
    }
    for (const value of [
      'eighty',
      'loud',
      'nope-value',
      'yes-please',
      'secret-pass',
      'short-key',
    ]) {
      expect(text).not.toContain(value);
    }
  });

  it('reads the console admin as a pair, its password at least 12 characters, never echoed', () => {
    const c = parseConfig({ WXHUB_ADMIN_USER: 'root', WXHUB_ADMIN_PASSWORD: 'long-enough-pw' });
    expect(c.admin).toEqual({ user: 'root', password: 'long-enough-pw' });
    expect(c.adminSessionIdleSeconds).toBe(1_800);
    expect(c.adminSessionMaxSeconds).toBe(43_200);
    expect(parseConfig({}).admin).toBeUndefined();
    expect(problems({ WXHUB_ADMIN_USER: 'root' })).toEqual([
      'WXHUB_ADMIN_PASSWORD: required with the other of WXHUB_ADMIN_USER / WXHUB_ADMIN_PASSWORD',
    ]);
    expect(problems({ WXHUB_ADMIN_PASSWORD: 'long-enough-pw' })[0]).toMatch(/^WXHUB_ADMIN_USER:/);
    const bad = problems({
      WXHUB_ADMIN_USER: 'no spaces allowed',
      WXHUB_ADMIN_PASSWORD: 'short-pw',
      WXHUB_ADMIN_SESSION_IDLE_SECONDS: '5',
      WXHUB_ADMIN_SESSION_MAX_SECONDS: 'forever',
    });
    expect(bad.map((p) => p.split(':')[0]).sort()).toEqual([
      'WXHUB_ADMIN_PASSWORD',
      'WXHUB_ADMIN_SESSION_IDLE_SECONDS',
      'WXHUB_ADMIN_SESSION_MAX_SECONDS',
      'WXHUB_ADMIN_USER',
    ]);
    for (const value of ['no spaces allowed', 'short-pw', 'forever']) {
      expect(bad.join('\n')).not.toContain(value);
    }
  });

  it('rejects a secret key of the wrong length, saying the length and not the key', () => {
    const short = randomBytes(16).toString('base64');
    const err = problems({ WXHUB_SECRET_KEY: short });
    expect(err).toEqual(['WXHUB_SECRET_KEY: the key must decode to exactly 32 bytes (got 16)']);
    expect(problems({ WXHUB_SECRET_KEY: 'not base64 !!' })).toEqual([
      'WXHUB_SECRET_KEY: the key is not base64',
    ]);
  });

  it('requires a secret key with MySQL, and MYSQL_ADDRESS with MYSQL_USERNAME', () => {
    expect(problems({ DATABASE_URL: 'mysql://u:p@h/db' })).toEqual([
      'WXHUB_SECRET_KEY: required when the database is MySQL (32 bytes, base64)',
    ]);
    expect(problems({ MYSQL_USERNAME: 'root' })).toEqual([
      'MYSQL_ADDRESS: required when MYSQL_USERNAME or MYSQL_PASSWORD is set',
    ]);
  });

  it('reads DATABASE_READ_URL as a replica of a MySQL primary, and refuses it otherwise', () => {
    const replica = 'mysql://reader:s3cret-pw@replica:3306/hub';
    const c = parseConfig({
      DATABASE_URL: 'mysql://u:p@db:3306/hub',
      DATABASE_READ_URL: replica,
      WXHUB_SECRET_KEY: KEY,
    });
    expect(c.database).toEqual({
      dialect: 'mysql',
      url: 'mysql://u:p@db:3306/hub',
      readUrl: replica,
    });
    const cloudRun = parseConfig({
      MYSQL_ADDRESS: '10.0.0.5:3306',
      MYSQL_USERNAME: 'root',
      DATABASE_READ_URL: replica,
      WXHUB_SECRET_KEY: KEY,
    });
    expect(cloudRun.database).toMatchObject({ dialect: 'mysql', readUrl: replica });
    expect(
      parseConfig({ DATABASE_URL: 'mysql://u:p@db/hub', WXHUB_SECRET_KEY: KEY }).database,
    ).not.toHaveProperty('readUrl');

    const onSqlite = problems({ DATABASE_READ_URL: replica });
    expect(onSqlite).toEqual([
      'DATABASE_READ_URL: a read replica needs a MySQL primary (DATABASE_URL=mysql://… or ' +
        'MYSQL_ADDRESS); the embedded SQLite database has none',
    ]);
    const notMysql = problems({
      DATABASE_URL: 'mysql://u:p@db/hub',
      DATABASE_READ_URL: 'postgres://reader:s3cret-pw@replica/hub',
      WXHUB_SECRET_KEY: KEY,
    });
    expect(notMysql).toEqual(['DATABASE_READ_URL: must be mysql://user:pass@host:port/db']);
    // Never a value, so never the replica's password.
    expect(JSON.stringify([onSqlite, notMysql])).not.toContain('s3cret-pw');
  });

  it('accepts several secret keys for rotation, the first one current', () => {
    const k2 = randomBytes(32).toString('base64');
    expect(
      parseConfig({ WXHUB_SECRET_KEY: `${KEY},${k2}` }).secretKeys?.map((k) =>
        k.toString('base64'),
      ),
    ).toEqual([KEY, k2]);
  });

  it('treats empty values as unset', () => {
    expect(parseConfig({ PORT: '', DATABASE_URL: '' }).port).toBe(3000);
  });
});
