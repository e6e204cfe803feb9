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
import { answerJson, type HubEnv } from '../../shared/http/app';
import { mount } from '../../shared/http/routes';
import { redeemTicket } from '../../shared/oauth/oauth';
import type { Deps } from '../../shared/platform/deps';
import { buildJssdkConfig } from '../../shared/wechat/jssdk';
import { mountComponentProxies } from '../proxy/app';
import { invalidated, tokenAnswer } from './answers';
import { mountAuthorizerDirectory } from './authorizers';
import { mountCapabilities } from './capabilities';
import * as api from './component-api';
import { oauthRedeem } from './oauth-api';
import { mountSessions } from './sessions';

/**
 * The token function's routes that load on their first request (`lazyRoutes` in ./app.ts, paths
 * in {@link EXTRA_PATHS}), so its cold start and its WeChat token routes do not parse them: the
 * third-party platform, login sessions, OAuth redeem and the mini program capabilities. The SCF
 * package ships them as `token-extras.js` (LAZY_FILES in scripts/build-lib.ts).
 */
export function createExtraRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  mountAuthorizerDirectory(r, deps);

  mount(r, api.componentToken, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    return answerJson(c, tokenAnswer(app.appId, await componentAccessToken(deps, app)));
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
    return answerJson(c, tokenAnswer(params.appid, token));
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

  mountSessions(r, deps);
  // The caller's backend redeems the ticket its page got from /oauth/{app}/callback.
  mount(r, oauthRedeem, async (c, { body }) => c.json(await redeemTicket(deps, body.ticket)));
  mountCapabilities(r, deps);
  mountComponentProxies(r, deps);
  return r;
}
