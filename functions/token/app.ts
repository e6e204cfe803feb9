import { Hono } from 'hono';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import { requireInternal } from '../../shared/http/auth';
import type { Deps } from '../../shared/platform/deps';
import { appAccessToken } from '../../shared/tokens/app-tokens';

/** Routes of the token function: credentials served to internal callers (api.md). */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  r.use('/v1/apps/*', requireInternal(deps.config));

  r.get('/v1/apps/:app/token', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    const token = await appAccessToken(deps.tokens, deps.wechat, app);
    return c.json({
      appId: app.appId,
      accessToken: token.value,
      expiresAt: new Date(token.expiresAt).toISOString(),
    });
  });
  return r;
}

/** The token function as a standalone app (SCF, tests). */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
