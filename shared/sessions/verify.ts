import type { JWTVerifyGetKey } from 'jose';
import { SESSION_TYP } from './session-token';
import { SESSION_ALG } from './signing-keys';

export interface VerifySessionOptions {
  /** The hub's keys: `createRemoteJWKSet(new URL('https://hub.example.com/.well-known/jwks.json'))`. */
  jwks: JWTVerifyGetKey;
  /** The hub's `iss`: `WXHUB_JWT_ISSUER`, else `WXHUB_PUBLIC_URL`, else `wxhub`. */
  issuer: string;
  /** The app name (apps file) the token must be for. */
  audience: string;
  /** "Now" for the expiry check (tests). */
  currentDate?: Date;
}

export interface VerifiedSession {
  openid: string;
  app: string;
  /** Epoch ms of `exp`. */
  expiresAt: number;
}

/**
 * Verifies a session token from `POST /v1/apps/{app}/login` the way any backend should, with
 * `jose` (https://github.com/panva/jose): the algorithm pinned to ES256 (a token with
 * `alg: none` or another algorithm is refused), `typ`, `iss`, `aud` and `exp` checked.
 *
 * @example
 * import { createRemoteJWKSet } from 'jose';
 * const jwks = createRemoteJWKSet(new URL('https://hub.example.com/.well-known/jwks.json'));
 * const { openid } = await verifySession(token, {
 *   jwks,
 *   issuer: 'https://hub.example.com',
 *   audience: 'shop-mp',
 * });
 */
export async function verifySession(
  token: string,
  opts: VerifySessionOptions,
): Promise<VerifiedSession> {
  const { jwtVerify } = await import('jose');
  const { payload } = await jwtVerify(token, opts.jwks, {
    algorithms: [SESSION_ALG],
    typ: SESSION_TYP,
    issuer: opts.issuer,
    audience: opts.audience,
    requiredClaims: ['sub', 'iat', 'exp'],
    ...(opts.currentDate === undefined ? {} : { currentDate: opts.currentDate }),
  });
  return {
    openid: String(payload.sub),
    app: opts.audience,
    expiresAt: Number(payload.exp) * 1000,
  };
}
