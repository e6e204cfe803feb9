import { Hono } from 'hono';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import type { Deps } from '../../shared/platform/deps';
import { runRefreshPass } from '../../shared/tokens/refresh-pass';

/** Runs one refresh pass with the process's dependencies (timer events, the scheduler). */
export function refreshNow(deps: Deps) {
  return runRefreshPass({
    store: deps.store,
    tokens: deps.tokens,
    clock: deps.clock,
    log: deps.log,
    wechat: deps.wechat,
    refreshAheadSeconds: deps.config.refreshAheadSeconds,
  });
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
