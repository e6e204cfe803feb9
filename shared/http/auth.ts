import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { requestHeader, wxSourceHeader } from './headers';

export interface InternalAuthOptions {
  apiKeys: string[];
  trustWxSource: boolean;
}

/** A second source of bearer keys (the console's, in the database): whether `key` is live. */
export type KeyLookup = (key: string) => Promise<boolean>;

/**
 * Compares a presented key with every configured key in time that depends on neither's content
 * nor length: each side is written into a zero-filled buffer as wide as the longest key, and the
 * byte lengths are compared as well (so a key with trailing zero bytes cannot match a shorter
 * one). A presented key wider than that is compared truncated and then rejected.
 */
export function createKeyMatcher(apiKeys: string[]): (presented: string) => boolean {
  const width = Math.max(64, ...apiKeys.map((k) => Buffer.byteLength(k, 'utf8')));
  const keys = apiKeys.map((k) => {
    const padded = Buffer.alloc(width);
    return { padded, length: padded.write(k, 'utf8') };
  });
  const scratch = Buffer.alloc(width);
  return (presented) => {
    scratch.fill(0);
    const written = scratch.write(presented, 'utf8');
    const fits = written === Buffer.byteLength(presented, 'utf8');
    let ok = false;
    for (const k of keys) ok = (timingSafeEqual(k.padded, scratch) && k.length === written) || ok;
    return ok && fits;
  };
}

/** Why a request was refused: the message for the body and the `WWW-Authenticate` challenge. */
export interface AuthFailure {
  message: string;
  challenge: string;
}

/**
 * Internal routes are every path under `/v1/`, `/openapi.json` and `/metrics` (docs/api.md);
 * `/healthz`, `/wx/…`, `/pay/…`, `/admin/…` and `/docs` (a page for a browser, which cannot send
 * a bearer key) are not.
 */
export const isInternalPath = (path: string): boolean =>
  path === '/v1' || path.startsWith('/v1/') || path === '/openapi.json' || path === '/metrics';

/**
 * Checks a request to an internal route: `Authorization: Bearer <key>` against
 * `WXHUB_API_KEYS`, compared in constant time ({@link createKeyMatcher}), or a non-blank
 * `x-wx-source` (also `x-wx-sources`) when `WXHUB_TRUST_WX_SOURCE=1` on WeChat CloudRun. Answers `undefined`
 * when the caller may pass. The environment's keys are checked first and synchronously; only a
 * key none of them matches goes to `lookup` (the console's keys), and then the answer is a promise.
 */
export function createInternalAuth(
  opts: InternalAuthOptions,
  lookup?: KeyLookup,
): (c: Context) => AuthFailure | undefined | Promise<AuthFailure | undefined> {
  const matches = createKeyMatcher(opts.apiKeys);
  const invalid = { message: 'invalid bearer key', challenge: 'Bearer error="invalid_token"' };
  return (c) => {
    if (opts.trustWxSource && wxSourceHeader(c) !== undefined) return undefined;
    const header = requestHeader(c, 'authorization');
    if (header === undefined || header === '') {
      return { message: 'missing Authorization: Bearer <key>', challenge: 'Bearer' };
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const key = match?.[1] ?? '';
    if (matches(key) && match !== null) return undefined;
    if (match === null || lookup === undefined) return invalid;
    return lookup(key).then((ok) => (ok ? undefined : invalid));
  };
}
