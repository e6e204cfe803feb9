import { Hono } from 'hono';
import {
  authorizationUrl,
  authorizedUri,
  authUrlOptions,
  publicBase,
} from '../../shared/component/authorization';
import { authorizerAccessToken } from '../../shared/component/authorizers';
import { componentAccessToken } from '../../shared/component/component';
import { answerJson, createBaseApp, type HubEnv } from '../../shared/http/app';
import { AppError } from '../../shared/http/errors';
import type { Deps } from '../../shared/platform/deps';
import type { AppRecord } from '../../shared/store';
import { assertReadable } from '../../shared/store/unreadable';
import {
  appAccessToken,
  appTicket,
  cachedAccessToken,
  invalidateAccessToken,
  TICKET_TYPES,
  type TicketType,
} from '../../shared/tokens/app-tokens';
import type { ServedCredential } from '../../shared/tokens/manager';
import { code2Session } from '../../shared/wechat/credentials';
import { buildJssdkConfig } from '../../shared/wechat/jssdk';
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

  r.post('/v1/apps/:app/token/invalidate', async (c) => {
    const body = await readJson(c.req.raw);
    const presented = body?.accessToken;
    if (typeof presented !== 'string' || presented === '') {
      throw new AppError(
        'BAD_REQUEST',
        'body must be JSON {"accessToken": "<the token that failed>"}',
      );
    }
    const app = await deps.apps.require(c.req.param('app'));
    const r = await invalidateAccessToken(deps, app, presented);
    return c.json({
      appId: app.appId,
      accessToken: r.token.value,
      expiresAt: new Date(r.token.expiresAt).toISOString(),
      ...(r.heldBack === undefined ? {} : { error: { code: 'RATE_LIMITED', message: r.heldBack } }),
    });
  });

  r.get('/v1/apps/:app/jssdk-config', async (c) => {
    const url = c.req.query('url');
    if (url === undefined || url === '')
      throw new AppError('BAD_REQUEST', 'query parameter url is required');
    if (!isHttpUrl(url)) throw new AppError('BAD_REQUEST', 'url must be an absolute http(s) URL');
    const app = await deps.apps.require(c.req.param('app'));
    const ticket = await appTicket(deps.tokens, deps.wechat, app, 'jsapi');
    return c.json({ appId: app.appId, ...buildJssdkConfig(ticket.value, url, deps.clock.now()) });
  });

  r.post('/v1/apps/:app/code2session', async (c) => {
    const body = await readJson(c.req.raw);
    const code = body?.code;
    if (typeof code !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(code)) {
      throw new AppError('BAD_REQUEST', 'body must be JSON {"code": "<wx.login code>"}');
    }
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
    const type = c.req.query('type') ?? 'jsapi';
    if (!TICKET_TYPES.includes(type as TicketType)) {
      throw new AppError('BAD_REQUEST', `type must be one of ${TICKET_TYPES.join(', ')}`);
    }
    const app = await deps.apps.require(c.req.param('app'));
    const ticket = await appTicket(deps.tokens, deps.wechat, app, type as TicketType);
    return c.json({
      appId: app.appId,
      ticket: ticket.value,
      expiresAt: new Date(ticket.expiresAt).toISOString(),
    });
  });
  return r;
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
