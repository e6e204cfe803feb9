import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { HubEnv } from '../../shared/http/app';
import { AppError } from '../../shared/http/errors';
import { lazyRoutes } from '../../shared/http/lazy-routes';
import type { Deps } from '../../shared/platform/deps';
import type { AdminExtra } from './app';
import { CONSOLE_ASSETS, CONSOLE_HTML } from './ui-assets.generated';

/**
 * The console's data routes (`api`, given the guard that audits their writes) and pages, mounted
 * by the admin function behind its session layer, in the one-port server and the SCF function
 * alike. The data routes (and the account, pay and component code behind them) load on the first
 * request that reaches them, so the function's cold start (`/admin/api/me`, login) does not parse
 * them; the SCF package ships them as `admin-data.js`.
 */
export function consoleParts(deps: Deps): AdminExtra {
  return {
    api: (guard) =>
      lazyRoutes('/admin/api/', async () =>
        (await import('./data')).createAdminDataRoutes(deps, guard),
      ),
    pages: createConsoleRoutes(),
  };
}

/**
 * The console page's Content-Security-Policy: everything from the hub itself, no inline script
 * or style, no framing, no `<base>`, forms only to the hub.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Headers every console answer carries. */
const COMMON = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const HTML_ETAG = `"${createHash('sha256').update(CONSOLE_HTML).digest('base64url').slice(0, 22)}"`;

/**
 * The admin console: `GET /admin/` (a static page, no secret in it) and its bundled assets under
 * content-hashed names (`/admin/assets/console.<hash>.js`), cached for a year. The page itself is
 * revalidated every time (ETag) so a new deployment's assets are picked up at once.
 */
export function createConsoleRoutes(): Hono<HubEnv> {
  const r = new Hono<HubEnv>();

  r.get('/admin', (c) => c.redirect('/admin/', 301));

  r.get('/admin/', (c) => {
    const headers = {
      ...COMMON,
      'content-security-policy': CONSOLE_CSP,
      'x-frame-options': 'DENY',
      'cache-control': 'no-cache',
      etag: HTML_ETAG,
    };
    if (c.req.header('if-none-match') === HTML_ETAG) {
      return c.body(null, 304, headers);
    }
    return c.body(CONSOLE_HTML, 200, { ...headers, 'content-type': 'text/html; charset=utf-8' });
  });

  r.get('/admin/assets/:name', (c) => {
    const name = c.req.param('name');
    const asset = Object.hasOwn(CONSOLE_ASSETS, name) ? CONSOLE_ASSETS[name] : undefined;
    if (asset === undefined) throw new AppError('NOT_FOUND', 'no such console asset');
    return c.body(asset.body, 200, {
      ...COMMON,
      'content-type': asset.type,
      'cache-control': 'public, max-age=31536000, immutable',
    });
  });

  return r;
}
