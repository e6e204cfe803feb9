import { createCipheriv } from 'node:crypto';
import {
  base64url,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySession } from '../../clients/ts/src/session';
import { createLogger } from '../../shared/http/log';
import { listen, type RunningServer } from '../../shared/platform/server';
import { SESSION_TYP } from '../../shared/sessions/session-token';
import { rawTableText, type TestTarget, testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };
const ISSUER = 'https://hub.example.com';

interface LoginAnswer {
  openid: string;
  unionid?: string;
  token: string;
  expiresAt: string;
}
type Envelope = { error: { code: string; message: string; requestId: string } };

/** A fresh database on the same engine as `target` (signing keys are per database). */
const freshTarget = (target: TestTarget): TestTarget => {
  const t = testTargets().find((x) => x.name === target.name);
  if (t === undefined) throw new Error(`no ${target.name} target`);
  return t;
};

describe.each(testTargets())('login sessions on $name', (target) => {
  const mp = testApp({ kind: 'miniprogram', tokenMode: 'stable' });
  const oa = testApp();
  const bare = testApp({ kind: 'miniprogram', appSecret: undefined });
  const lines: string[] = [];
  let hub: TestHub;
  let server: RunningServer;
  beforeAll(async () => {
    hub = await createTestHub(target, {
      apps: [mp, oa, bare],
      env: { WXHUB_PUBLIC_URL: ISSUER },
      log: createLogger('debug', { write: (l: string) => lines.push(l) }),
    });
    server = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
  });
  afterAll(async () => {
    await server.close(0);
    await hub.close();
  });
  const sim = () => hub.sim.sim;
  const now = () => new Date(sim().clock.now());
  const post = (path: string, body: unknown, headers: Record<string, string> = JSON_AUTH) =>
    hub.app.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
  const login = async (openid: string, unionid?: string, app = mp) => {
    const code = sim().issueLoginCode(app.appId, openid, unionid);
    const res = await post(`/v1/apps/${app.name}/login`, { code });
    expect(res.status).toBe(200);
    return { code, answer: (await res.json()) as LoginAnswer };
  };
  const jwks = () => createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
  const verify = (token: string, over: { audience?: string; currentDate?: Date } = {}) =>
    verifySession(token, {
      jwks: jwks(),
      issuer: ISSUER,
      audience: over.audience ?? mp.name,
      currentDate: over.currentDate ?? now(),
    });
  const openData = async (openid: string) => {
    const res = await fetch(`${hub.sim.url}/__sim/open-data`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appId: mp.appId, openid, data: { nickName: 'Band', gender: 1 } }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { encryptedData: string; iv: string };
  };
  const heldKey = async (openid: string) => {
    const held = await hub.deps.store.loginSessions.get(mp.name, openid);
    if (held === undefined || !('sessionKey' in held)) throw new Error('no readable session key');
    return held.sessionKey;
  };

  describe('login', () => {
    it('answers openid, unionid and a JWT that verifies against the JWKS over HTTP', async () => {
      const { answer } = await login('o-login-1', 'u-login-1');
      expect(Object.keys(answer).sort()).toEqual(['expiresAt', 'openid', 'token', 'unionid']);
      expect(answer).toMatchObject({ openid: 'o-login-1', unionid: 'u-login-1' });
      const session = await verify(answer.token);
      expect(session).toEqual({
        openid: 'o-login-1',
        app: mp.name,
        expiresAt: Date.parse(answer.expiresAt),
      });
      expect(Date.parse(answer.expiresAt)).toBe(
        Math.floor(sim().clock.now() / 1000) * 1000 + 7_200_000,
      );
      const header = decodeProtectedHeader(answer.token);
      expect(header).toEqual({ alg: 'ES256', kid: header.kid, typ: SESSION_TYP });
      const claims = decodeJwt(answer.token);
      expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
      expect(claims).toMatchObject({ iss: ISSUER, aud: mp.name, sub: 'o-login-1' });
    });

    it('keeps the session key sealed, never answers or logs it, and replaces it on each login', async () => {
      const { code, answer } = await login('o-login-2');
      const first = await heldKey('o-login-2');
      expect(Buffer.from(first, 'base64')).toHaveLength(16);
      const payload = Buffer.from(answer.token.split('.')[1] ?? '', 'base64url').toString();
      for (const text of [JSON.stringify(answer), payload, lines.join('\n')]) {
        expect(text).not.toContain(first);
      }
      expect(lines.join('\n')).not.toContain(code);
      expect(lines.join('\n')).not.toContain(answer.token);
      const raw = await rawTableText(hub.opened, 'login_sessions');
      expect(raw).toContain('o-login-2');
      expect(raw).not.toContain(first);
      await login('o-login-2');
      expect(await heldKey('o-login-2')).not.toBe(first);
    });

    it('is refused after exp, for another audience, with alg none, HS256 or another key', async () => {
      const { answer } = await login('o-login-3');
      const exp = Date.parse(answer.expiresAt);
      await expect(
        verify(answer.token, { currentDate: new Date(exp - 1000) }),
      ).resolves.toBeTruthy();
      await expect(
        verify(answer.token, { currentDate: new Date(exp + 1000) }),
      ).rejects.toMatchObject({
        code: 'ERR_JWT_EXPIRED',
      });
      await expect(verify(answer.token, { audience: oa.name })).rejects.toMatchObject({
        code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
        claim: 'aud',
      });
      const header = decodeProtectedHeader(answer.token);
      const [, payload] = answer.token.split('.');
      const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
      const none = `${enc({ ...header, alg: 'none' })}.${payload}.`;
      await expect(verify(none)).rejects.toThrow();
      // The public key used as an HMAC secret (algorithm confusion).
      const keys = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as {
        keys: Record<string, unknown>[];
      };
      const hs = await new SignJWT(decodeJwt(answer.token))
        .setProtectedHeader({ ...header, alg: 'HS256' })
        .sign(new TextEncoder().encode(JSON.stringify(keys.keys[0])));
      await expect(verify(hs)).rejects.toThrow();
      const other = await generateKeyPair('ES256');
      const forged = await new SignJWT(decodeJwt(answer.token))
        .setProtectedHeader({ ...header, alg: 'ES256' })
        .sign(other.privateKey);
      await expect(verify(forged)).rejects.toMatchObject({
        code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      });
      const unknownKid = await new SignJWT(decodeJwt(answer.token))
        .setProtectedHeader({ ...header, alg: 'ES256', kid: 'not-a-hub-key' })
        .sign(other.privateKey);
      await expect(verify(unknownKid)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    });

    it('publishes the JWKS without auth, cacheable, public parts only', async () => {
      const res = await fetch(`${server.url}/.well-known/jwks.json`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=300');
      expect(res.headers.get('content-type')).toBe('application/jwk-set+json');
      const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
      expect(keys).toHaveLength(1);
      expect(Object.keys(keys[0] ?? {}).sort()).toEqual([
        'alg',
        'crv',
        'kid',
        'kty',
        'use',
        'x',
        'y',
      ]);
      const raw = await rawTableText(hub.opened, 'signing_keys');
      expect(raw).toContain('wx1.');
      expect(raw).not.toContain('"d":');
    });

    it('answers the error envelope for bad input', async () => {
      const cases: [string, unknown, Record<string, string>, number, string][] = [
        [`/v1/apps/${mp.name}/login`, {}, JSON_AUTH, 400, 'BAD_REQUEST'],
        [`/v1/apps/${mp.name}/login`, { code: 'a b' }, JSON_AUTH, 400, 'BAD_REQUEST'],
        [`/v1/apps/${oa.name}/login`, { code: 'abc' }, JSON_AUTH, 400, 'BAD_REQUEST'],
        ['/v1/apps/no-such-app/login', { code: 'abc' }, JSON_AUTH, 404, 'NOT_FOUND'],
        [`/v1/apps/${bare.name}/login`, { code: 'abc' }, JSON_AUTH, 409, 'CONFLICT'],
        [`/v1/apps/${mp.name}/login`, { code: 'abc' }, {}, 401, 'UNAUTHORIZED'],
        [`/v1/apps/${mp.name}/login`, { code: 'never-issued' }, JSON_AUTH, 502, 'UPSTREAM_WECHAT'],
      ];
      for (const [path, body, headers, status, code] of cases) {
        const res = await post(path, body, headers);
        const name = `${path} ${JSON.stringify(body)}`;
        expect(res.status, name).toBe(status);
        expect(((await res.json()) as Envelope).error.code, name).toBe(code);
      }
    });
  });

  describe('decrypt', () => {
    it("decrypts the user's open data with the held session key", async () => {
      await login('o-dec-1');
      const data = await openData('o-dec-1');
      const res = await post(`/v1/apps/${mp.name}/decrypt`, { openid: 'o-dec-1', ...data });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        nickName: 'Band',
        gender: 1,
        watermark: { appid: mp.appId, timestamp: Math.floor(sim().clock.now() / 1000) },
      });
    });

    it("passes WeChat's official example", async () => {
      const official = testApp({ kind: 'miniprogram', appId: 'wx4f4bc4dec97d474b' });
      await hub.deps.store.apps.upsert(official, 'file', sim().clock.now());
      await hub.deps.store.loginSessions.save(
        official.name,
        'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
        'tiihtNczf5v6AKRyjwEUhQ==',
        sim().clock.now(),
      );
      const res = await post(`/v1/apps/${official.name}/decrypt`, {
        openid: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
        encryptedData:
          'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC' +
          '+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poO' +
          'FtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8' +
          'xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB' +
          '6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJd' +
          'NiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOy' +
          'uxINew==',
        iv: 'r7BXXKkLb8qrSNn05n0qiA==',
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        openId: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
        nickName: 'Band',
        watermark: { timestamp: 1477314187, appid: 'wx4f4bc4dec97d474b' },
      });
    });

    it('refuses a wrong appid watermark, bad padding, a tampered block and an older session', async () => {
      await login('o-dec-2');
      const key = await heldKey('o-dec-2');
      const data = await openData('o-dec-2');
      const refused = async (body: Record<string, string>) => {
        const res = await post(`/v1/apps/${mp.name}/decrypt`, { openid: 'o-dec-2', ...body });
        const text = await res.text();
        expect(text).not.toContain('Band');
        return { status: res.status, code: (JSON.parse(text) as Envelope).error.code };
      };
      const cbc = (plain: Buffer, iv: Buffer) => {
        const c = createCipheriv('aes-128-cbc', Buffer.from(key, 'base64'), iv);
        c.setAutoPadding(false);
        return Buffer.concat([c.update(plain), c.final()]).toString('base64');
      };
      const iv = Buffer.alloc(16, 7);
      const other = Buffer.from(
        JSON.stringify({ nickName: 'Band', watermark: { appid: 'wxother', timestamp: 1 } }),
      );
      const pad = (b: Buffer, byte?: number) => {
        const n = 16 - (b.length % 16);
        return Buffer.concat([b, Buffer.alloc(n, byte ?? n)]);
      };
      expect(
        await refused({ encryptedData: cbc(pad(other), iv), iv: iv.toString('base64') }),
      ).toEqual({ status: 400, code: 'WATERMARK_MISMATCH' });
      const mine = Buffer.from(
        JSON.stringify({ nickName: 'Band', watermark: { appid: mp.appId, timestamp: 1 } }),
      );
      expect(
        await refused({ encryptedData: cbc(pad(mine, 0), iv), iv: iv.toString('base64') }),
      ).toEqual({ status: 400, code: 'DECRYPT_FAILED' });
      const tampered = Buffer.from(data.encryptedData, 'base64');
      tampered[5] = (tampered[5] ?? 0) ^ 0x40;
      expect(await refused({ ...data, encryptedData: tampered.toString('base64') })).toEqual({
        status: 400,
        code: 'DECRYPT_FAILED',
      });
      await login('o-dec-2');
      expect(await refused(data)).toEqual({ status: 400, code: 'DECRYPT_FAILED' });
    });

    it('answers 409 NO_SESSION, and the envelope for bad input', async () => {
      const data = { encryptedData: 'AAAAAAAAAAAAAAAAAAAAAA==', iv: 'AAAAAAAAAAAAAAAAAAAAAA==' };
      const cases: [string, unknown, Record<string, string>, number, string][] = [
        [
          `/v1/apps/${mp.name}/decrypt`,
          { openid: 'o-never', ...data },
          JSON_AUTH,
          409,
          'NO_SESSION',
        ],
        [`/v1/apps/${mp.name}/decrypt`, { ...data }, JSON_AUTH, 400, 'BAD_REQUEST'],
        [
          `/v1/apps/${mp.name}/decrypt`,
          { openid: 'o', encryptedData: 'x' },
          JSON_AUTH,
          400,
          'BAD_REQUEST',
        ],
        [
          `/v1/apps/${mp.name}/decrypt`,
          { openid: 'o', ...data, iv: 'AAAA' },
          JSON_AUTH,
          400,
          'BAD_REQUEST',
        ],
        [
          `/v1/apps/${mp.name}/decrypt`,
          { openid: 'o', ...data, encryptedData: '%%' },
          JSON_AUTH,
          400,
          'BAD_REQUEST',
        ],
        [`/v1/apps/${oa.name}/decrypt`, { openid: 'o', ...data }, JSON_AUTH, 400, 'BAD_REQUEST'],
        ['/v1/apps/no-such-app/decrypt', { openid: 'o', ...data }, JSON_AUTH, 404, 'NOT_FOUND'],
        [`/v1/apps/${mp.name}/decrypt`, { openid: 'o', ...data }, {}, 401, 'UNAUTHORIZED'],
      ];
      for (const [path, body, headers, status, code] of cases) {
        const res = await post(path, body, headers);
        const name = `${path} ${JSON.stringify(body)}`;
        expect(res.status, name).toBe(status);
        expect(((await res.json()) as Envelope).error.code, name).toBe(code);
      }
    });
  });

  it('two instances logging in at once on a fresh database agree on one signing key', async () => {
    const fresh = freshTarget(target);
    const app = testApp({ kind: 'miniprogram' });
    const a = await createTestHub(fresh, { apps: [app], sim: hub.sim, instanceId: 'a' });
    const b = await createTestHub(fresh, { apps: [app], sim: hub.sim, instanceId: 'b' });
    try {
      const answers = await Promise.all(
        [a, b, a, b].map(async (h, i) => {
          const code = sim().issueLoginCode(app.appId, `o-race-${i}`);
          const res = await h.app.request(`/v1/apps/${app.name}/login`, {
            method: 'POST',
            headers: JSON_AUTH,
            body: JSON.stringify({ code }),
          });
          expect(res.status).toBe(200);
          return (await res.json()) as LoginAnswer;
        }),
      );
      const kids = new Set(answers.map((x) => decodeProtectedHeader(x.token).kid));
      expect(kids.size).toBe(1);
      const stored = await a.deps.store.signingKeys.recent(10);
      expect(stored.map((k) => k.kid)).toEqual([...kids]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe.each(testTargets())('signing key rotation on $name', (target) => {
  const mp = testApp({ kind: 'miniprogram' });
  let hub: TestHub;
  let server: RunningServer;
  beforeAll(async () => {
    hub = await createTestHub(target, {
      apps: [mp],
      env: {
        WXHUB_JWT_ISSUER: 'wxhub-test',
        WXHUB_JWT_TTL_SECONDS: '3600',
        WXHUB_JWT_KEY_ROTATION_DAYS: '10',
      },
    });
    server = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
  });
  afterAll(async () => {
    await server.close(0);
    await hub.close();
  });
  const clock = () => hub.sim.sim.clock;
  const login = async () => {
    const code = hub.sim.sim.issueLoginCode(mp.appId, 'o-rot');
    const res = await hub.app.request(`/v1/apps/${mp.name}/login`, {
      method: 'POST',
      headers: JSON_AUTH,
      body: JSON.stringify({ code }),
    });
    return ((await res.json()) as LoginAnswer).token;
  };
  const published = async () => {
    const res = await fetch(`${server.url}/.well-known/jwks.json`);
    return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  };
  const verify = (token: string) =>
    verifySession(token, {
      jwks: createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)),
      issuer: 'wxhub-test',
      audience: mp.name,
      currentDate: new Date(clock().now()),
    });

  it('publishes the next key ahead, signs with it after rotation, keeps the old one until its tokens expired', async () => {
    const first = await login();
    const kid1 = decodeProtectedHeader(first).kid;
    expect(decodeJwt(first).iss).toBe('wxhub-test');
    expect(await published()).toEqual([kid1]);
    // Within the last day of its 10: the next key is published, the first still signs.
    clock().advance(9.5 * 86_400_000);
    const late = await login();
    expect(decodeProtectedHeader(late).kid).toBe(kid1);
    const both = await published();
    expect(both).toHaveLength(2);
    const kid2 = both.find((k) => k !== kid1);
    clock().advance(0.5 * 86_400_000 - 60_000);
    const lastOfFirst = await login();
    expect(decodeProtectedHeader(lastOfFirst).kid).toBe(kid1);
    // Past the rotation: the second key signs; the first one's last token still verifies.
    clock().advance(120_000);
    const next = await login();
    expect(decodeProtectedHeader(next).kid).toBe(kid2);
    await expect(verify(lastOfFirst)).resolves.toMatchObject({ openid: 'o-rot' });
    await expect(verify(next)).resolves.toMatchObject({ openid: 'o-rot' });
    await expect(verify(late)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    expect(await published()).toContain(kid1);
    // An hour (the TTL) after the first key stopped signing, it is gone from the set.
    clock().advance(3_600_000);
    expect(await published()).not.toContain(kid1);
    expect(await published()).toContain(kid2);
  });
});
