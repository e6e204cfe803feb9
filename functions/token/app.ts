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
import { AppError } from '../../shared/http/errors';
import type { Deps } from '../../shared/platform/deps';
import type { AppRecord } from '../../shared/store';
import { assertReadable } from '../../shared/store/unreadable';
import {
  appAccessToken,
  appTicket,
  cachedAccessToken,
  type InvalidateResult,
  invalidateAccessToken,
  TICKET_TYPES,
  type TicketType,
} from '../../shared/tokens/app-tokens';
import type { ServedCredential } from '../../shared/tokens/manager';
import { code2Session } from '../../shared/wechat/credentials';
import { buildJssdkConfig } from '../../shared/wechat/jssdk';
import { createComponentProxyRoutes } from '../proxy/app';
import { createAuthorizerDirectoryRoutes } from './authorizers';

/** Routes of the token function: credentials served to internal callers (docs/api.md). */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  r.route('/', createAuthorizerDirectoryRoutes(deps));

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

  r.get('/v1/apps/:app/token', (c) => {
    const name = c.req.param('app');
    // The common case, both cached: answered without a promise in between.
    const app = deps.apps.cached(name);
    const token = app === undefined ? undefined : cachedAccessToken(deps.tokens, app);
    if (app !== undefined && token !== undefined) return answerJson(c, tokenBody(app, token));
    return (async () => {
      const app = await deps.apps.require(name);
      const token = await appAccessToken(deps.tokens, deps.wechat, app);
      return answerJson(c, tokenBody(app, token));
    })();
  });

  r.get('/v1/components/:app/token', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    return answerJson(c, tokenBody(app, await componentAccessToken(deps, app)));
  });

  // A link to WeChat's authorization page with a fresh pre-auth code; WeChat sends the browser
  // back to this hub's /wx/{app}/component/authorized.
  r.get('/v1/components/:app/auth-url', async (c) => {
    const opts = authUrlOptions({
      type: c.req.query('type'),
      authType: c.req.query('authType'),
      bizAppId: c.req.query('bizAppId'),
    });
    const app = await deps.apps.require(c.req.param('app'));
    const base = publicBase(deps.config.publicUrl, c.req.url, c.req.header('x-forwarded-proto'));
    const r = await authorizationUrl(deps, app, opts, authorizedUri(base, app));
    return c.json({ url: r.url, expiresAt: new Date(r.expiresAt).toISOString() });
  });

  r.get('/v1/components/:app/authorizers/:appid/token', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    const appid = c.req.param('appid');
    const token = await authorizerAccessToken(deps, app, appid);
    return c.json({
      appId: appid,
      accessToken: token.value,
      expiresAt: new Date(token.expiresAt).toISOString(),
    });
  });

  r.post('/v1/components/:app/authorizers/:appid/token/invalidate', async (c) => {
    const presented = await presentedToken(c.req.raw);
    const app = await deps.apps.require(c.req.param('app'));
    const appid = c.req.param('appid');
    const r = await invalidateAuthorizerToken(deps, app, appid, presented);
    return c.json(invalidated(appid, r));
  });

  r.get('/v1/components/:app/authorizers/:appid/ticket', async (c) => {
    const type = ticketType(c.req.query('type'));
    const app = await deps.apps.require(c.req.param('app'));
    const appid = c.req.param('appid');
    const ticket = await authorizerTicket(deps, app, appid, type);
    return c.json({
      appId: appid,
      ticket: ticket.value,
      expiresAt: new Date(ticket.expiresAt).toISOString(),
    });
  });

  r.get('/v1/components/:app/authorizers/:appid/jssdk-config', async (c) => {
    const url = pageUrl(c.req.query('url'));
    const app = await deps.apps.require(c.req.param('app'));
    const appid = c.req.param('appid');
    const ticket = await authorizerTicket(deps, app, appid, 'jsapi');
    return c.json({ appId: appid, ...buildJssdkConfig(ticket.value, url, deps.clock.now()) });
  });

  r.post('/v1/components/:app/authorizers/:appid/code2session', async (c) => {
    const code = await loginCode(c.req.raw);
    const app = await deps.apps.require(c.req.param('app'));
    const appid = c.req.param('appid');
    return c.json(await authorizerCode2Session(deps, app, appid, code));
  });

  r.post('/v1/apps/:app/token/invalidate', async (c) => {
    const presented = await presentedToken(c.req.raw);
    const app = await deps.apps.require(c.req.param('app'));
    return c.json(invalidated(app.appId, await invalidateAccessToken(deps, app, presented)));
  });

  r.get('/v1/apps/:app/jssdk-config', async (c) => {
    const url = pageUrl(c.req.query('url'));
    const app = await deps.apps.require(c.req.param('app'));
    const ticket = await appTicket(deps.tokens, deps.wechat, app, 'jsapi');
    return c.json({ appId: app.appId, ...buildJssdkConfig(ticket.value, url, deps.clock.now()) });
  });

  r.post('/v1/apps/:app/code2session', async (c) => {
    const code = await loginCode(c.req.raw);
    const app = await deps.apps.require(c.req.param('app'));
    if (app.kind !== 'miniprogram') {
      throw new AppError(
        'BAD_REQUEST',
        `app "${app.name}" is a ${app.kind} app; code2session is for miniprogram apps`,
      );
    }
    assertReadable(app, 'apps.app_secret');
    if (app.appSecret === undefined) {
      throw new AppError('CONFLICT', `app "${app.name}" has no appSecret configured`);
    }
    return c.json(await code2Session(deps.wechat, app.appId, app.appSecret, code));
  });

  r.get('/v1/apps/:app/ticket', async (c) => {
    const type = ticketType(c.req.query('type') ?? 'jsapi');
    const app = await deps.apps.require(c.req.param('app'));
    const ticket = await appTicket(deps.tokens, deps.wechat, app, type);
    return c.json({
      appId: app.appId,
      ticket: ticket.value,
      expiresAt: new Date(ticket.expiresAt).toISOString(),
    });
  });
  r.route('/', createComponentProxyRoutes(deps));
  return r;
}

/** The `accessToken` of an invalidate report's body; 400 without one. */
async function presentedToken(req: Request): Promise<string> {
  const presented = (await readJson(req))?.accessToken;
  if (typeof presented !== 'string' || presented === '') {
    throw new AppError(
      'BAD_REQUEST',
      'body must be JSON {"accessToken": "<the token that failed>"}',
    );
  }
  return presented;
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

/** The `code` of a login body; 400 without a plausible one. */
async function loginCode(req: Request): Promise<string> {
  const code = (await readJson(req))?.code;
  if (typeof code !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(code)) {
    throw new AppError('BAD_REQUEST', 'body must be JSON {"code": "<wx.login code>"}');
  }
  return code;
}

/** A ticket type from the query; 400 for a missing or unknown one. */
function ticketType(type: string | undefined): TicketType {
  if (!TICKET_TYPES.includes(type as TicketType)) {
    throw new AppError('BAD_REQUEST', `type must be one of ${TICKET_TYPES.join(', ')}`);
  }
  return type as TicketType;
}

/** The page URL a JS-SDK signature is for; 400 unless an absolute http(s) URL. */
function pageUrl(url: string | undefined): string {
  if (url === undefined || url === '') {
    throw new AppError('BAD_REQUEST', 'query parameter url is required');
  }
  if (!isHttpUrl(url)) throw new AppError('BAD_REQUEST', 'url must be an absolute http(s) URL');
  return url;
}

/** The body as a JSON object, or undefined when it is not one. */
async function readJson(req: Request): Promise<Record<string, unknown> | undefined> {
  try {
    const v: unknown = await req.json();
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function isHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** The token function as a standalone app (SCF, tests). */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
