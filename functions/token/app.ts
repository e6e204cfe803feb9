import { Hono } from 'hono';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import { requireInternal } from '../../shared/http/auth';
import { AppError } from '../../shared/http/errors';
import type { Deps } from '../../shared/platform/deps';
import {
  appAccessToken,
  appTicket,
  TICKET_TYPES,
  type TicketType,
} from '../../shared/tokens/app-tokens';

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

/** The token function as a standalone app (SCF, tests). */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
