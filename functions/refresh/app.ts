import { Hono } from 'hono';
import { drainOutbox, purgeExpired } from '../../shared/callbacks/forward';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import type { Deps } from '../../shared/platform/deps';
import { runRefreshPass } from '../../shared/tokens/refresh-pass';

/**
 * One pass of the timer (timer events, the scheduler, `POST /v1/refresh`): credentials refreshed
 * ahead of expiry, then the delivery outbox drained, then stored messages past retention purged.
 */
export async function refreshNow(deps: Deps) {
  const tokens = await runRefreshPass({
    store: deps.store,
    tokens: deps.tokens,
    clock: deps.clock,
    log: deps.log,
    wechat: deps.wechat,
    refreshAheadSeconds: deps.config.refreshAheadSeconds,
  });
  const outbox = await drainOutbox(deps);
  const purged = await purgeExpired(deps, deps.config.messageRetentionDays);
  if (outbox.delivered + outbox.retrying + outbox.dead + purged.messages + purged.deliveries > 0) {
    deps.log.info({ outbox, purged }, 'outbox drained');
  }
  return { ...tokens, outbox, purged };
}

/** Routes of the refresh function: `POST /v1/refresh` runs one pass now. */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  r.post('/v1/refresh', async (c) => c.json(await refreshNow(deps)));
  return r;
}

/** The refresh function as a standalone app. */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
