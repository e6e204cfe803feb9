import { Hono } from 'hono';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import { hangUpOf } from '../../shared/http/headers';
import type { Deps } from '../../shared/platform/deps';
import { appAccessToken, invalidateAccessToken } from '../../shared/tokens/app-tokens';
import { proxyWechat } from '../../shared/wechat/proxy';
import { assertNotMinting, proxySegments, upstreamPath } from '../../shared/wechat/proxy-path';

/** Routes of the proxy function: `ANY /v1/proxy/{app}/{path…}` with the token injected. */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  r.all('/v1/proxy/:app/:path{.+}', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    // Both parameters come decoded from the route; the raw URL is never sliced.
    const segments = proxySegments(c.req.param('path'));
    assertNotMinting(segments, app.name);
    const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    const requestId = c.get('requestId');
    const hangUp = hangUpOf(c);
    return proxyWechat(
      {
        baseUrl: deps.wechat.baseUrl,
        fetch: deps.fetch,
        timeoutMs: deps.config.proxyTimeoutMs,
        maxBytes: deps.config.proxyMaxBytes,
        token: async () => (await appAccessToken(deps.tokens, deps.wechat, app)).value,
        invalidate: async (dead) => {
          const { token, heldBack } = await invalidateAccessToken(deps, app, dead);
          return heldBack !== undefined && token.value === dead ? undefined : token.value;
        },
        onCutOff: (reason) =>
          deps.log.warn(
            { requestId, app: app.name, path: segments.join('/'), reason },
            'proxy: answer cut off',
          ),
        ...(hangUp === undefined ? {} : { hangUp }),
      },
      {
        method: c.req.method,
        path: upstreamPath(segments),
        search: new URL(c.req.url).searchParams,
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
