import { Hono } from 'hono';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import type { Deps } from '../../shared/platform/deps';
import { appAccessToken, invalidateAccessToken } from '../../shared/tokens/app-tokens';
import { proxyWechat } from '../../shared/wechat/proxy';

/** Routes of the proxy function: `ANY /v1/proxy/{app}/{path…}` with the token injected. */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  r.all('/v1/proxy/:app/*', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    const url = new URL(c.req.url);
    const prefix = `/v1/proxy/${c.req.param('app')}/`;
    const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    return proxyWechat(
      {
        baseUrl: deps.wechat.baseUrl,
        fetch: deps.fetch,
        timeoutMs: deps.config.proxyTimeoutMs,
        token: async () => (await appAccessToken(deps.tokens, deps.wechat, app)).value,
        invalidate: async (dead) => (await invalidateAccessToken(deps, app, dead)).token.value,
      },
      {
        method: c.req.method,
        path: url.pathname.slice(prefix.length),
        search: url.searchParams,
        body: hasBody ? await c.req.arrayBuffer() : undefined,
        contentType: c.req.header('content-type'),
      },
    );
  });
  return r;
}

/** The proxy function as a standalone app. */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
