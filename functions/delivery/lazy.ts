import type { Hono } from 'hono';
import type { HubEnv } from '../../shared/http/app';
import { lazyRoutes } from '../../shared/http/lazy-routes';
import type { Deps } from '../../shared/platform/deps';

/**
 * The delivery platforms' route groups, each loaded (`./app`, shipped as `delivery.js` by the SCF
 * build) on the first request under its prefix: the WeChat paths of the token and wx-callback
 * functions never parse them.
 */
export function mountDeliveryApi(r: Hono<HubEnv>, deps: Deps): void {
  r.route(
    '/',
    lazyRoutes(['/v1/fengniao/', '/v1/shansong/'], async () =>
      (await import('./app')).createDeliveryApiRoutes(deps),
    ),
  );
}

/** The platforms' callbacks and the browsers' authorization pages (wx-callback function). */
export function mountDeliveryPublic(r: Hono<HubEnv>, deps: Deps): void {
  r.route(
    '/',
    lazyRoutes(['/fengniao/', '/shansong/'], async () =>
      (await import('./app')).createDeliveryPublicRoutes(deps),
    ),
  );
}
