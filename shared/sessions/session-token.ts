import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import type { SessionSettings } from './settings';
import { SESSION_ALG, type SigningKeys } from './signing-keys';

/** The `typ` header of a session token (explicit typing, RFC 8725 §3.11). */
export const SESSION_TYP = 'wxhub-session+jwt';

export interface IssuedSession {
  token: string;
  /** Epoch ms of `exp`. */
  expiresAt: number;
}

/**
 * Signs a session token for `openid` of the app named `app`: header `alg` ES256, `kid`, `typ`;
 * claims `iss`, `aud` = the app's name, `sub` = the openid, `iat`, `exp`, `jti`. Nothing else: no
 * session key, no unionid, no WeChat token.
 */
export async function issueSessionToken(
  keys: SigningKeys,
  clock: Clock,
  settings: SessionSettings,
  app: string,
  openid: string,
): Promise<IssuedSession> {
  const { SignJWT } = await import('./jose');
  const signer = await keys.current();
  const iat = Math.floor(clock.now() / 1000);
  const exp = iat + settings.ttlSeconds;
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: SESSION_ALG, kid: signer.kid, typ: SESSION_TYP })
    .setIssuer(settings.issuer)
    .setAudience(app)
    .setSubject(openid)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(signer.key);
  return { token, expiresAt: exp * 1000 };
}
