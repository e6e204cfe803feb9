import { Hono } from 'hono';
import {
  authorizationUrl,
  authorizedUri,
  authUrlOptions,
  publicBase,
} from '../../shared/component/authorization';
import { authorizerAccessToken } from '../../shared/component/authorizers';
import { componentAccessToken } from '../../shared/component/component';
import {
  authorizerCode2Session,
  authorizerTicket,
  invalidateAuthorizerToken,
} from '../../shared/component/credentials';
import { answerJson, createBaseApp, type HubEnv } from '../../shared/http/app';
import { lazyRoutes } from '../../shared/http/lazy-routes';
import { mount } from '../../shared/http/routes';
import { redeemTicket } from '../../shared/oauth/oauth';
import type { Deps } from '../../shared/platform/deps';
import { miniProgramSecret } from '../../shared/sessions/login';
import type { AppRecord } from '../../shared/store';
import {
  appAccessToken,
  appTicket,
  cachedAccessToken,
  type InvalidateResult,
  invalidateAccessToken,
} from '../../shared/tokens/app-tokens';
import type { ServedCredential } from '../../shared/tokens/manager';
import { code2Session } from '../../shared/wechat/credentials';
import { buildJssdkConfig } from '../../shared/wechat/jssdk';
import { mountOpenApi } from '../openapi';
import { mountComponentProxies } from '../proxy/app';
import * as api from './api';
import { mountAuthorizerDirectory } from './authorizers';
import { mountCapabilities } from './capabilities';
import { oauthRedeem } from './oauth-api';
import { mountSessions } from './sessions';

/** Routes of the token function: credentials served to internal callers (docs/api.md). */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  mountAuthorizerDirectory(r, deps);

  // Serialised answers by cache entry: the entry object lives as long as this instance serves
  // that value, so the body is built once per token, not once per request.
  const bodies = new WeakMap<ServedCredential, { appId: string; body: string }>();
  const tokenBody = (app: AppRecord, token: ServedCredential): string => {
    const known = bodies.get(token);
    if (known !== undefined && known.appId === app.appId) return known.body;
    const body = JSON.stringify({
      appId: app.appId,
      accessToken: token.value,
      expiresAt: new Date(token.expiresAt).toISOString(),
    });
    bodies.set(token, { appId: app.appId, body });
    return body;
  };

  mount(r, api.appToken, (c, { params }) => {
    // The common case, both cached: answered without a promise in between.
    const app = deps.apps.cached(params.app);
    const token = app === undefined ? undefined : cachedAccessToken(deps.tokens, app);
    if (app !== undefined && token !== undefined) return answerJson(c, tokenBody(app, token));
    return (async () => {
      const app = await deps.apps.require(params.app);
      const token = await appAccessToken(deps.tokens, deps.wechat, app);
      return answerJson(c, tokenBody(app, token));
    })();
  });

  mount(r, api.componentToken, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    return answerJson(c, tokenBody(app, await componentAccessToken(deps, app)));
  });

  // A link to WeChat's authorization page with a fresh pre-auth code; WeChat sends the browser
  // back to this hub's /wx/{app}/component/authorized.
  mount(r, api.componentAuthUrl, async (c, { params, query }) => {
    const opts = authUrlOptions({
      type: query.type,
      authType: query.authType,
      bizAppId: query.bizAppId,
    });
    const app = await deps.apps.require(params.app);
    const base = publicBase(deps.config.publicUrl, c.req.url, c.req.header('x-forwarded-proto'));
    const r = await authorizationUrl(deps, app, opts, authorizedUri(base, app));
    return c.json({ url: r.url, expiresAt: new Date(r.expiresAt).toISOString() });
  });

  mount(r, api.authorizerToken, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    const token = await authorizerAccessToken(deps, app, params.appid);
    return c.json({
      appId: params.appid,
      accessToken: token.value,
      expiresAt: new Date(token.expiresAt).toISOString(),
    });
  });

  mount(r, api.authorizerInvalidate, async (c, { params, body }) => {
    const app = await deps.apps.require(params.app);
    const r = await invalidateAuthorizerToken(deps, app, params.appid, body.accessToken);
    return c.json(invalidated(params.appid, r));
  });

  mount(r, api.authorizerTicket, async (c, { params, query }) => {
    const app = await deps.apps.require(params.app);
    const ticket = await authorizerTicket(deps, app, params.appid, query.type);
    return c.json({
      appId: params.appid,
      ticket: ticket.value,
      expiresAt: new Date(ticket.expiresAt).toISOString(),
    });
  });

  mount(r, api.authorizerJssdk, async (c, { params, query }) => {
    const app = await deps.apps.require(params.app);
    const ticket = await authorizerTicket(deps, app, params.appid, 'jsapi');
    const config = buildJssdkConfig(ticket.value, query.url, deps.clock.now());
    return c.json({ appId: params.appid, ...config });
  });

  mount(r, api.authorizerCode2Session, async (c, { params, body }) => {
    const app = await deps.apps.require(params.app);
    return c.json(await authorizerCode2Session(deps, app, params.appid, body.code));
  });

  mount(r, api.appInvalidate, async (c, { params, body }) => {
    const app = await deps.apps.require(params.app);
    const r = await invalidateAccessToken(deps, app, body.accessToken);
    return c.json(invalidated(app.appId, r));
  });

  mount(r, api.appJssdk, async (c, { params, query }) => {
    const app = await deps.apps.require(params.app);
    const ticket = await appTicket(deps.tokens, deps.wechat, app, 'jsapi');
    const config = buildJssdkConfig(ticket.value, query.url, deps.clock.now());
    return c.json({ appId: app.appId, ...config });
  });

  mount(r, api.appCode2Session, async (c, { params, body }) => {
    const app = await deps.apps.require(params.app);
    const secret = miniProgramSecret(app, 'code2session');
    return c.json(await code2Session(deps.wechat, app.appId, secret, body.code));
  });
  mountSessions(r, deps);

  mount(r, api.appTicket, async (c, { params, query }) => {
    const app = await deps.apps.require(params.app);
    const ticket = await appTicket(deps.tokens, deps.wechat, app, query.type);
    return c.json({
      appId: app.appId,
      ticket: ticket.value,
      expiresAt: new Date(ticket.expiresAt).toISOString(),
    });
  });
  // The caller's backend redeems the ticket its page got from /oauth/{app}/callback.
  mount(r, oauthRedeem, async (c, { body }) => c.json(await redeemTicket(deps, body.ticket)));
  mountCapabilities(r, deps);
  mountComponentProxies(r, deps);
  // WeCom suites (`/v1/suites/…`): loaded on the first request of one (LAZY_FILES).
  r.route(
    '/',
    lazyRoutes('/v1/suites/', async () =>
      (await import('../suite/routes')).createSuiteApiRoutes(deps),
    ),
  );
  mountOpenApi(r, () => deps.config.publicUrl);
  return r;
}

/** The answer to an invalidate report: the token to use now, and why it was not replaced. */
function invalidated(appId: string, r: InvalidateResult) {
  return {
    appId,
    accessToken: r.token.value,
    expiresAt: new Date(r.token.expiresAt).toISOString(),
    ...(r.heldBack === undefined ? {} : { error: { code: 'RATE_LIMITED', message: r.heldBack } }),
  };
}

/** The token function as a standalone app (SCF, tests). */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
