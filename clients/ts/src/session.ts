import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';

/** The algorithm and `typ` of the hub's session tokens (`POST /v1/apps/{app}/login`). */
export const SESSION_ALG = 'ES256';
export const SESSION_TYP = 'wxhub-session+jwt';

export interface VerifySessionOptions {
  /**
   * The hub's origin (and path prefix, if any): its keys are read from
   * `{hubUrl}/.well-known/jwks.json` (cached, refetched for an unknown `kid`). Give `jwks`
   * instead to supply the keys yourself.
   */
  hubUrl?: string;
  jwks?: JWTVerifyGetKey;
  /** The hub's `iss`: `WXHUB_JWT_ISSUER`, else its `WXHUB_PUBLIC_URL`, else `wxhub`. */
  issuer: string;
  /** The app name (the hub's apps file) the token must be for: its `aud`. */
  audience: string;
  /** "Now" for the expiry check (tests). */
  currentDate?: Date;
}

export interface VerifiedSession {
  /** The user's openid (`sub`). */
  openid: string;
  /** The app the token is for (`aud`). */
  app: string;
  /** Epoch milliseconds of `exp`. */
  expiresAt: number;
}

const keySets = new Map<string, JWTVerifyGetKey>();

function keysOf(hubUrl: string): JWTVerifyGetKey {
  const url = new URL('.well-known/jwks.json', hubUrl.endsWith('/') ? hubUrl : `${hubUrl}/`);
  let set = keySets.get(url.href);
  if (set === undefined) {
    set = createRemoteJWKSet(url);
    keySets.set(url.href, set);
  }
  return set;
}

/**
 * Verifies a session token the hub signed at login, locally, with the hub's published keys
 * (jose): the algorithm pinned to ES256 (`alg: none` or any other algorithm is refused), `typ`,
 * `iss`, `aud` and `exp` checked. Rejects with jose's error (`code` such as
 * `ERR_JWT_EXPIRED`, `ERR_JWT_CLAIM_VALIDATION_FAILED`, `ERR_JWS_SIGNATURE_VERIFICATION_FAILED`)
 * when the token does not hold; the error never contains the token.
 */
export async function verifySession(
  token: string,
  opts: VerifySessionOptions,
): Promise<VerifiedSession> {
  const jwks = opts.jwks ?? (opts.hubUrl === undefined ? undefined : keysOf(opts.hubUrl));
  if (jwks === undefined) throw new TypeError('verifySession needs hubUrl or jwks');
  const { payload } = await jwtVerify(token, jwks, {
    algorithms: [SESSION_ALG],
    typ: SESSION_TYP,
    issuer: opts.issuer,
    audience: opts.audience,
    requiredClaims: ['sub', 'iat', 'exp'],
    ...(opts.currentDate === undefined ? {} : { currentDate: opts.currentDate }),
  });
  return { openid: String(payload.sub), app: opts.audience, expiresAt: Number(payload.exp) * 1000 };
}
