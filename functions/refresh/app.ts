import { Hono } from 'hono';
import { drainOutbox, purgeExpired, targetForLog } from '../../shared/callbacks/forward';
import { createBaseApp, describe, type HubEnv } from '../../shared/http/app';
import { mount } from '../../shared/http/routes';
import type { Deps } from '../../shared/platform/deps';
import { runRefreshPass } from '../../shared/tokens/refresh-pass';
import * as api from './api';

/**
 * One pass of the timer (timer events, the scheduler, `POST /v1/refresh`): credentials refreshed
 * ahead of expiry, then the delivery outbox drained, then stored messages past retention purged.
 */
export async function refreshNow(deps: Deps) {
  // Each step runs even when an earlier one failed (one bad credential must not stop deliveries);
  // the first failure is thrown once all have run.
  const failures: unknown[] = [];
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (err) {
      failures.push(err);
      deps.log.error({ step: name, err: describe(err) }, 'refresh step failed');
      return undefined;
    }
  };
  const tokens = await step('credentials', () =>
    runRefreshPass({
      store: deps.store,
      tokens: deps.tokens,
      clock: deps.clock,
      log: deps.log,
      wechat: deps.wechat,
      instanceId: deps.instanceId,
      pay: deps.pay,
      wecom: {
        baseUrl: deps.config.wecomApiBase,
        fetch: deps.fetch,
        timeoutMs: deps.wechat.timeoutMs,
      },
      refreshAheadSeconds: deps.config.refreshAheadSeconds,
    }),
  );
  const outbox = await step('outbox', () => drainOutbox(deps));
  const purged = await step('retention', () =>
    purgeExpired(deps, deps.config.messageRetentionDays),
  );
  if (tokens === undefined || outbox === undefined || purged === undefined) throw failures[0];
  const purgedRows =
    purged.messages +
    purged.deliveries +
    purged.signatures +
    purged.authorizationCodes +
    purged.loginFailures;
  if (outbox.delivered + outbox.retrying + outbox.dead + purgedRows > 0) {
    deps.log.info({ outbox, purged }, 'outbox drained');
  }
  return { ...tokens, outbox, purged };
}

/** Routes of the refresh function: `POST /v1/refresh` runs one pass now. */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  mount(r, api.refreshPass, async (c) => c.json(await refreshNow(deps)));
  // Deliveries by status, newest 100 (dead ones stay until someone looks): no payloads, and the
  // target without user info or query. Delivered rows can be many (until retention purges
  // them); they are not listed.
  mount(r, api.outboxList, async (c, { query }) => {
    const { status, app } = query;
    const rows = await deps.store.outbox.list({
      status,
      ...(app === undefined || app === '' ? {} : { owner: app }),
    });
    return c.json({
      deliveries: rows.slice(-100).map((d) => ({
        id: d.id,
        app: d.owner,
        source: d.source,
        target: targetForLog(d.targetUrl),
        status: d.status,
        attempts: d.attempts,
        maxAttempts: d.maxAttempts,
        lastError: d.lastError ?? null,
        nextAttemptAt: new Date(d.nextAttemptAt).toISOString(),
      })),
    });
  });
  return r;
}

/** The refresh function as a standalone app. */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
