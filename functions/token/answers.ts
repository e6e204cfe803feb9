import type { InvalidateResult } from '../../shared/tokens/app-tokens';
import type { ServedCredential } from '../../shared/tokens/manager';

/** A served token as the token routes answer it: `{appId, accessToken, expiresAt}`. */
export function tokenAnswer(appId: string, token: ServedCredential): string {
  return JSON.stringify({
    appId,
    accessToken: token.value,
    expiresAt: new Date(token.expiresAt).toISOString(),
  });
}

/** The answer to an invalidate report: the token to use now, and why it was not replaced. */
export function invalidated(appId: string, r: InvalidateResult) {
  return {
    appId,
    accessToken: r.token.value,
    expiresAt: new Date(r.token.expiresAt).toISOString(),
    ...(r.heldBack === undefined ? {} : { error: { code: 'RATE_LIMITED', message: r.heldBack } }),
  };
}
