import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, keyIdOf } from '../crypto/secret-box';
import { AppError } from '../http/errors';
import { createCodec } from './codec';
import { assertReadable } from './unreadable';

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);
const boxA = createSecretBox([KEY_A]);

const credentialRow = (value: string | null) => ({
  owner: 'app:oa',
  kind: 'access_token',
  value,
  expiresAt: 1,
  version: 1,
  leaseOwner: null,
  leaseUntil: null,
  lastError: null,
  lastErrorAt: null,
  failures: 0,
  nextAttemptAt: null,
  refreshedAt: null,
});

const appRow = (appSecret: string) => ({
  name: 'oa',
  kind: 'official',
  appId: 'wx0000',
  appSecret,
  callbackToken: null,
  encodingAesKey: null,
  tokenMode: 'classic',
  messageMode: null,
  authRedirectUrl: null,
  oauthRedirects: null,
  oauthComponent: null,
  devId: null,
  providerCorpId: null,
  forward: '[]',
  source: 'file',
  enabled: true,
  createdAt: 1,
  updatedAt: 1,
});

describe('codec: sealed values that do not open', () => {
  it('reads a value sealed under a key no longer configured as unreadable, naming the key id', () => {
    const sealed = boxA.seal('the-token', 'credentials.value:app:oa/access_token');
    const r = createCodec(createSecretBox([KEY_B])).credential(credentialRow(sealed));
    expect(r.value).toBeUndefined();
    expect(r.unreadable).toMatchObject({
      code: 'SECRET_KEY_UNKNOWN',
      column: 'credentials.value',
      row: 'app:oa/access_token',
      keyId: keyIdOf(KEY_A),
    });
    expect(r.unreadable?.message).toBe(
      `SECRET_KEY_UNKNOWN: credentials.value of app:oa/access_token is sealed with key id ${keyIdOf(KEY_A)}, which is not a configured key (WXHUB_SECRET_KEY)`,
    );
    expect(JSON.stringify(r)).not.toContain('the-token');
  });

  it('tells a value that does not authenticate (copied from another row) from an unknown key', () => {
    const other = boxA.seal('s3cret', 'apps.app_secret:another-app');
    const r = createCodec(boxA).app(appRow(other));
    expect(r.appSecret).toBeUndefined();
    expect(r.unreadable).toEqual([
      expect.objectContaining({ code: 'SECRET_UNREADABLE', column: 'apps.app_secret', row: 'oa' }),
    ]);
    expect(() => assertReadable(r, 'apps.app_secret')).toThrow(AppError);
    expect(() => assertReadable(r, 'apps.callback_token')).not.toThrow();
  });

  it('opens values sealed under an older key while it is still listed (rotation)', () => {
    const sealed = boxA.seal('s3cret', 'apps.app_secret:oa');
    const r = createCodec(createSecretBox([KEY_B, KEY_A])).app(appRow(sealed));
    expect(r.appSecret).toBe('s3cret');
    expect(r.unreadable).toBeUndefined();
  });
});
