import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AppError } from './errors';

export interface InternalAuthOptions {
  apiKeys: string[];
  trustWxSource: boolean;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Guards internal routes: `Authorization: Bearer <key>` against `WXHUB_API_KEYS`, compared in
 * constant time (every configured key is compared, digests hide lengths), or `x-wx-source`
 * (also `x-wx-sources`) when `WXHUB_TRUST_WX_SOURCE=1` on WeChat CloudRun.
 */
export function requireInternal(opts: InternalAuthOptions): MiddlewareHandler {
  const keyDigests = opts.apiKeys.map(digest);
  return async (c, next) => {
    if (opts.trustWxSource && (c.req.header('x-wx-source') ?? c.req.header('x-wx-sources'))) {
      return next();
    }
    const header = c.req.header('authorization');
    if (header === undefined || header === '') {
      c.header('WWW-Authenticate', 'Bearer');
      throw new AppError('UNAUTHORIZED', 'missing Authorization: Bearer <key>');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const presented = digest(match?.[1] ?? '');
    let ok = false;
    for (const d of keyDigests) ok = timingSafeEqual(d, presented) || ok;
    if (match === null || !ok) {
      c.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new AppError('UNAUTHORIZED', 'invalid bearer key');
    }
    return next();
  };
}
