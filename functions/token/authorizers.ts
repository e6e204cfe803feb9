import { Hono } from 'hono';
import { syncAuthorizers } from '../../shared/component/authorizer-sync';
import { getAuthorizer, listAuthorizers, listQuery } from '../../shared/component/directory';
import type { HubEnv } from '../../shared/http/app';
import type { Deps } from '../../shared/platform/deps';

/** The authorizer directory of a third-party platform (docs/api.md); never a token. */
export function createAuthorizerDirectoryRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  r.get('/v1/components/:app/authorizers', async (c) => {
    const q = listQuery({
      status: c.req.query('status'),
      offset: c.req.query('offset'),
      limit: c.req.query('limit'),
    });
    const app = await deps.apps.require(c.req.param('app'));
    return c.json(await listAuthorizers(deps, app, q));
  });
  r.post('/v1/components/:app/authorizers/sync', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    return c.json(await syncAuthorizers(deps, app));
  });
  r.get('/v1/components/:app/authorizers/:appid', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    return c.json(await getAuthorizer(deps, app, c.req.param('appid')));
  });
  return r;
}
