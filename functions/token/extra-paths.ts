/**
 * Where the token function's lazily loaded routes ({@link createExtraRoutes} in ./extras.ts) are
 * reached: a path ending in `/` covers everything under it, any other is one Hono route pattern.
 * A test checks that these cover every route of ./extras.ts and none of the eager ones.
 */
export const EXTRA_PATHS = [
  '/v1/components/',
  '/v1/oauth/',
  '/.well-known/jwks.json',
  '/v1/apps/:app/login',
  '/v1/apps/:app/decrypt',
  '/v1/apps/:app/phone-number',
  '/v1/apps/:app/subscribe-messages',
  '/v1/apps/:app/url-scheme',
  '/v1/apps/:app/url-link',
  '/v1/apps/:app/short-link',
  '/v1/apps/:app/wxacode',
] as const;
