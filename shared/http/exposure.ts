/** Which routes a process serves (`WXHUB_EXPOSE`, docs/api.md "Exposure"). */
export const EXPOSURES = ['all', 'public', 'internal'] as const;
export type Exposure = (typeof EXPOSURES)[number];

/**
 * Path prefixes of the routes WeChat, WeChat Pay and browsers call from outside: callbacks
 * (`/wx/…`), Pay notifications (`/pay/…/notify`), OAuth and authorization pages, courier
 * callbacks and `/.well-known/…`.
 */
const PUBLIC_PREFIXES = [
  '/wx/',
  '/pay/',
  '/oauth/',
  '/admin/',
  '/fengniao/',
  '/shansong/',
  '/.well-known/',
];

/** Public paths served as they are: the console's address without its slash (redirected). */
const PUBLIC_PATHS = ['/admin'];

/**
 * Path prefixes of the routes only the operator's own services call, and of the API reference
 * (`/docs`, it documents them).
 */
const INTERNAL_PREFIXES = ['/v1/', '/docs/'];
const INTERNAL_PATHS = ['/v1', '/metrics', '/openapi.json', '/docs'];

/** Served by every exposure: CloudRun and load balancers probe it. */
const EVERYWHERE = '/healthz';

/**
 * Whether a process started with `exposure` serves `path`. The decision is made from the path
 * alone, so a route added later is classified by its prefix; a path in neither list is served
 * only by `all`.
 */
export function isExposed(path: string, exposure: Exposure): boolean {
  if (exposure === 'all' || path === EVERYWHERE) return true;
  if (exposure === 'public') {
    return PUBLIC_PATHS.includes(path) || PUBLIC_PREFIXES.some((p) => path.startsWith(p));
  }
  return INTERNAL_PATHS.includes(path) || INTERNAL_PREFIXES.some((p) => path.startsWith(p));
}
