import { createSimulator } from '../dev/simulator/app';
import { createSimClock } from '../dev/simulator/clock';
import type { SimComponentConfig } from '../dev/simulator/component';
import { startSimulator } from '../dev/simulator/server';
import type { SimSuiteConfig } from '../dev/simulator/wecom-suite';
import {
  AUTHORIZER_REFRESH_KIND,
  AUTHORIZER_STATUS_KIND,
  AUTHORIZER_TOKEN_KIND,
  NO_EXPIRY,
} from '../shared/component/authorizers';
import { openTestStore, type TestTarget } from '../shared/store/testing';
import { CORP_TOKEN_KIND, PERMANENT_CODE_KIND } from '../shared/wecom-suite/corps';

const LIFETIME_MS = 2 * 60 * 60_000;

/**
 * The simulator as a process of its own (started by `startSimProcess` in ./sim-child.ts), so the
 * hub's process holds only the hub: its peak RSS and CPU are the hub's. It also seeds the
 * database, for the same reason. One message at a time.
 */
export type SimRequest =
  | { op: 'component'; cfg: SimComponentConfig }
  | { op: 'grant'; appId: string; authorizers: { appId: string; refreshToken: string }[] }
  | { op: 'seed'; target: TestTarget; appName: string; appId: string; count: number; start: number }
  | { op: 'suite'; cfg: SimSuiteConfig }
  | {
      op: 'seed-corps';
      target: TestTarget;
      appName: string;
      suiteId: string;
      count: number;
      start: number;
    }
  | { op: 'advance'; ms: number }
  | { op: 'calls'; path: string }
  | { op: 'rss' };

const startMs = Number(process.argv[2] ?? Date.now());
const sim = createSimulator({ clock: createSimClock(startMs) });
const running = await startSimulator({ sim });

/**
 * Writes `count` tenants' credential rows in `target`'s database, one transaction per 1,000:
 * `rows(i)` grants tenant `i` in the simulator and names its owner and rows.
 */
async function seedTenants(
  target: TestTarget,
  count: number,
  start: number,
  rows: (i: number) => { owner: string; kinds: readonly (readonly [string, string, number])[] },
): Promise<void> {
  const { store } = await openTestStore(target);
  try {
    const chunk = 1_000;
    for (let from = 0; from < count; from += chunk) {
      const ids = Array.from({ length: Math.min(chunk, count - from) }, (_, j) => from + j);
      await store.credentials.transaction(async (repo) => {
        for (const i of ids) {
          const { owner, kinds } = rows(i);
          for (const [kind, value, expiresAt] of kinds) {
            await repo.put({ owner, kind }, { value, expiresAt }, start);
          }
        }
      });
    }
  } finally {
    await store.close();
  }
}

/**
 * Seeds `count` authorizers of component `appName` in the database (refresh token, status and
 * token rows, sealed through the store) and in the simulator: token expiries spread over the 2 h
 * after `start`.
 */
const seed = (m: Extract<SimRequest, { op: 'seed' }>) =>
  seedTenants(m.target, m.count, m.start, (i) => {
    const appId = `wxa${String(i).padStart(15, '0')}`;
    const refreshToken = `refreshtoken@@@bench-${i}`;
    sim.grantAuthorizer(m.appId, appId, refreshToken);
    return {
      owner: `authorizer:${m.appName}:${appId}`,
      kinds: [
        [AUTHORIZER_REFRESH_KIND, refreshToken, NO_EXPIRY],
        [AUTHORIZER_STATUS_KIND, 'authorized:bench', NO_EXPIRY],
        [
          AUTHORIZER_TOKEN_KIND,
          `seed-token-${i}`,
          m.start + Math.floor((i * LIFETIME_MS) / m.count),
        ],
      ],
    };
  });

/**
 * Seeds `count` corps that installed WeCom suite `appName` in the database (sealed permanent
 * code, status and token rows, as the hub writes them after an install) and in the simulator:
 * token expiries spread over the 2 h after `start`.
 */
const seedCorps = (m: Extract<SimRequest, { op: 'seed-corps' }>) =>
  seedTenants(m.target, m.count, m.start, (i) => {
    const corpId = `wwcorp${String(i).padStart(12, '0')}`;
    const permanentCode = `pc_bench_${i}`;
    sim.wecomSuites.grantCorp(m.suiteId, corpId, permanentCode);
    return {
      owner: `authorizer:${m.appName}:${corpId}`,
      kinds: [
        [PERMANENT_CODE_KIND, permanentCode, NO_EXPIRY],
        [AUTHORIZER_STATUS_KIND, 'authorized', NO_EXPIRY],
        [CORP_TOKEN_KIND, `seed-token-${i}`, m.start + Math.floor((i * LIFETIME_MS) / m.count)],
      ],
    };
  });

async function handle(m: SimRequest): Promise<unknown> {
  switch (m.op) {
    case 'component': {
      sim.registerComponent(m.cfg);
      const pushed = await sim.pushTicket(m.cfg.appId);
      return { ticket: pushed.ticket, createTime: pushed.createTime };
    }
    case 'grant':
      for (const a of m.authorizers) sim.grantAuthorizer(m.appId, a.appId, a.refreshToken);
      return {};
    case 'seed':
      await seed(m);
      return {};
    case 'suite': {
      sim.wecomSuites.register(m.cfg);
      const pushed = await sim.wecomSuites.pushTicket(m.cfg.suiteId);
      return { ticket: pushed.ticket, timeStamp: Math.floor(sim.clock.now() / 1000) };
    }
    case 'seed-corps':
      await seedCorps(m);
      return {};
    case 'advance':
      sim.clock.advance(m.ms);
      return { now: sim.clock.now() };
    case 'calls':
      return { calls: sim.calls(m.path) };
    case 'rss':
      return { rss: process.memoryUsage().rss };
  }
}

process.on('message', (m: SimRequest) => {
  handle(m).then(
    (value) => process.send?.({ ok: true, value }),
    (err: unknown) =>
      process.send?.({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.send?.({ ready: true, url: running.url });
