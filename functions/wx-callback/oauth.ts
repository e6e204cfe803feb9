import type { Context, Hono } from 'hono';
import { publicBase } from '../../shared/component/authorization';
import type { HubEnv } from '../../shared/http/app';
import { completeAuthorization, startAuthorization } from '../../shared/oauth/oauth';
import type { Deps } from '../../shared/platform/deps';
import { browserFacing } from './pages';

/** A redirect that keeps no copy and sends no Referer (the callback's URL carries the code). */
function redirect(c: Context<HubEnv>, location: string): Response {
  return c.body(null, 302, {
    location,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  });
}

/**
 * OAuth2 web authorization of an official account (docs/api.md): `GET /oauth/{app}/authorize`
 * sends the browser to WeChat's page, WeChat sends it back to `GET /oauth/{app}/callback`, which
 * sends it on to the caller's redirect with a single-use `wxhub_ticket`. Every failure is an
 * HTML page with the status of its error code (a bad redirect or state 400, a refusal 403).
 */
export function mountOAuthPages(r: Hono<HubEnv>, deps: Deps): void {
  r.get('/oauth/:app/authorize', (c) =>
    browserFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      const base = publicBase(deps.config.publicUrl, c.req.url, c.req.header('x-forwarded-proto'));
      const url = await startAuthorization(
        deps,
        app,
        { scope: c.req.query('scope'), redirect: c.req.query('redirect') },
        `${base}/oauth/${app.name}/callback`,
      );
      return redirect(c, url);
    }),
  );
  r.get('/oauth/:app/callback', (c) =>
    browserFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      const next = await completeAuthorization(deps, app, {
        code: c.req.query('code'),
        state: c.req.query('state'),
        appid: c.req.query('appid'),
      });
      return redirect(c, next);
    }),
  );
}
