import { Hono } from 'hono';
import { answerJson, createBaseApp, type HubEnv } from '../../shared/http/app';
import { lazyRoutes } from '../../shared/http/lazy-routes';
import { mount } from '../../shared/http/routes';
import type { Deps } from '../../shared/platform/deps';
import { exchangeLoginCode } from '../../shared/sessions/mini-program';
import type { AppRecord } from '../../shared/store';
import {
  appTicket,
  cachedAccessToken,
  invalidateServedToken,
  servedAccessToken,
} from '../../shared/tokens/app-tokens';
import type { ServedCredential } from '../../shared/tokens/manager';
import { buildJssdkConfig } from '../../shared/wechat/jssdk';
import { mountDeliveryApi } from '../delivery/lazy';
import { mountOpenApi } from '../openapi';
import { invalidated, tokenAnswer } from './answers';
import * as api from './api';
import { EXTRA_PATHS } from './extra-paths';

/** Routes of the token function: credentials served to internal callers (docs/api.md). */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();

  // Serialised answers by cache entry: the entry object lives as long as this instance serves
  // that value, so the body is built once per token, not once per request.
  const bodies = new WeakMap<ServedCredential, { appId: string; body: string }>();
  const tokenBody = (app: AppRecord, token: ServedCredential): string => {
    const known = bodies.get(token);
    if (known !== undefined && known.appId === app.appId) return known.body;
    const body = tokenAnswer(app.appId, token);
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
      const token = await servedAccessToken(deps, app);
      return answerJson(c, tokenBody(app, token));
    })();
  });

  mount(r, api.appInvalidate, async (c, { params, body }) => {
    const app = await deps.apps.require(params.app);
    const r = await invalidateServedToken(deps, app, body.accessToken);
    return c.json(invalidated(app.appId, r));
  });

  mount(r, api.appJssdk, async (c, { params, query }) => {
    const app = await deps.apps.require(params.app);
    const ticket = await appTicket(deps.tokens, deps, app, 'jsapi');
    const config = buildJssdkConfig(ticket.value, query.url, deps.clock.now());
    return c.json({ appId: app.appId, ...config });
  });

  mount(r, api.appCode2Session, async (c, { params, body }) => {
    const app = await deps.apps.require(params.app);
    return c.json(await exchangeLoginCode(deps, app, body.code));
  });

  mount(r, api.appTicket, async (c, { params, query }) => {
    const app = await deps.apps.require(params.app);
    const ticket = await appTicket(deps.tokens, deps, app, query.type);
    return c.json({
      appId: app.appId,
      ticket: ticket.value,
      expiresAt: new Date(ticket.expiresAt).toISOString(),
    });
  });
  mountDeliveryApi(r, deps);
  // SMS codes and COS uploads (`/v1/sms/…`, `/v1/cos/…`): loaded on their first request.
  r.route(
    '/',
    lazyRoutes(['/v1/sms/', '/v1/cos/'], async () =>
      (await import('./signing')).createSigningRoutes(deps),
    ),
  );
  // WeCom suites (`/v1/suites/…`): loaded on the first request of one (LAZY_FILES).
  r.route(
    '/',
    lazyRoutes('/v1/suites/', async () =>
      (await import('../suite/routes')).createSuiteApiRoutes(deps),
    ),
  );
  mountOpenApi(r, () => deps.config.publicUrl);
  // The third-party platform, login sessions, OAuth redeem and the capabilities: loaded on their
  // first request (./extras.ts).
  r.route(
    '/',
    lazyRoutes(EXTRA_PATHS, async () => (await import('./extras')).createExtraRoutes(deps)),
  );
  return r;
}

/** The token function as a standalone app (SCF, tests). */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
