import type { Hono } from 'hono';
import { syncAuthorizers } from '../../shared/component/authorizer-sync';
import { getAuthorizer, listAuthorizers, listQuery } from '../../shared/component/directory';
import type { HubEnv } from '../../shared/http/app';
import { mount } from '../../shared/http/routes';
import type { Deps } from '../../shared/platform/deps';
import { authorizerGet, authorizerList, authorizerSync } from './component-api';

/** The authorizer directory of a third-party platform (docs/api.md); never a token. */
export function mountAuthorizerDirectory(r: Hono<HubEnv>, deps: Deps): void {
  mount(r, authorizerList, async (c, { params, query }) => {
    const q = listQuery({ status: query.status, offset: query.offset, limit: query.limit });
    const app = await deps.apps.require(params.app);
    return c.json(await listAuthorizers(deps, app, q));
  });
  mount(r, authorizerSync, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    return c.json(await syncAuthorizers(deps, app));
  });
  mount(r, authorizerGet, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    return c.json(await getAuthorizer(deps, app, params.appid));
  });
}
