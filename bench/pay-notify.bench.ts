import { createHubApp } from '../functions/index';
import {
  merchantKeyPair,
  newPublicKey,
  signNotification,
  testMerchant,
  transactionResource,
} from '../functions/pay-notify/testing';
import { createTestHub, TEST_API_KEY, testApp } from '../functions/testing';
import { createDeps } from '../shared/platform/deps';
import { listen } from '../shared/platform/server';
import type { TestTarget } from '../shared/store/testing';
import { httpLoad } from './http-load';
import type { Bench, BenchContext, BenchResult } from './lib';
import { formatOps, median } from './lib';
import { benchTargets, discardingLog } from './setup';

/**
 * Notifications signed before timing (RSA signing is the sender's cost, not the hub's):
 * `BENCH_PAY_POOL`, else enough for the warm-up and the 3 timed runs at 6,000 per second (SQLite
 * stores about 2,700 per second on the 2-core development machine).
 */
const poolSize = (ctx: BenchContext) =>
  Number(
    process.env.BENCH_PAY_POOL ?? Math.ceil(((ctx.warmupMs + 3 * ctx.durationMs) / 1000) * 6_000),
  );

/**
 * Pay notifications end to end (verify on the raw body + decrypt + store once + 204) against the
 * cached token route on the same server in the same run. Each notification is distinct.
 */
async function notifyRoute(target: TestTarget, ctx: BenchContext): Promise<BenchResult[]> {
  const key = newPublicKey();
  const merchant = testMerchant(merchantKeyPair().privateKeyPem, [key]);
  const app = testApp({ tokenMode: 'classic' });
  const hub = await createTestHub(target, { apps: [app] });
  await hub.deps.store.merchants.upsert(merchant, 'file', hub.sim.sim.clock.now());
  const deps = createDeps({ ...hub.deps, log: discardingLog() });
  const server = await listen(createHubApp(deps), 0, discardingLog(), '127.0.0.1');
  try {
    const timestamp = Math.floor(hub.sim.sim.clock.now() / 1000);
    const size = poolSize(ctx);
    ctx.log(`${target.name}: signing ${size} notifications`);
    const pool = Array.from({ length: size }, (_, n) => {
      const signed = signNotification({
        key,
        apiV3Key: merchant.apiV3Key,
        resource: transactionResource(merchant.mchId, `bench-${target.name}-${n}`),
        timestamp,
      });
      return { path: `/pay/${merchant.name}/notify`, body: signed.body, headers: signed.headers };
    });
    let used = 0;
    const next = () => {
      const p = pool[used++];
      if (p === undefined) throw new Error('notification pool exhausted; raise BENCH_PAY_POOL');
      return p;
    };
    const tokenPath = `${server.url}/v1/apps/${app.name}/token`;
    const load = (notify: boolean, durationMs: number) =>
      httpLoad({
        url: notify ? server.url : tokenPath,
        headers: { authorization: `Bearer ${TEST_API_KEY}` },
        concurrency: 16,
        durationMs,
        ...(notify ? { next } : {}),
      });
    await load(false, ctx.warmupMs);
    await load(true, ctx.warmupMs);
    const tokens: number[] = [];
    const notifies: number[] = [];
    for (let round = 0; round < 3; round++) {
      tokens.push(await load(false, ctx.durationMs));
      notifies.push(await load(true, ctx.durationMs));
    }
    const token = median(tokens);
    const notify = median(notifies);
    const stored = await Promise.all(
      pool.slice(0, used).map(async (p) => {
        const id = (JSON.parse(p.body) as { id: string }).id;
        return (await hub.deps.store.payNotifications.get(merchant.name, id)) !== undefined;
      }),
    );
    const count = stored.filter(Boolean).length;
    ctx.log(
      `${target.name}: token route ${formatOps(token)}/s; pay notify ${formatOps(notify)}/s, ratio ${(notify / token).toFixed(2)}; ${count} stored (${used} sent)`,
    );
    if (count !== used) throw new Error(`expected ${used} stored notifications, found ${count}`);
    return [
      { bench: 'GET /v1/apps/{app}/token (baseline)', target: target.name, opsPerSec: token },
      {
        bench: 'POST /pay/{merchant}/notify (verify + decrypt + store)',
        target: target.name,
        opsPerSec: notify,
        baseline: { name: 'cached token route', opsPerSec: token },
      },
    ];
  } finally {
    await server.close(1_000);
    await hub.close();
  }
}

export const payNotifyBench: Bench = {
  name: 'pay-notify',
  async run(ctx) {
    const { targets, cleanup } = benchTargets(ctx);
    try {
      const rows: BenchResult[] = [];
      for (const t of targets) rows.push(...(await notifyRoute(t, ctx)));
      return rows;
    } finally {
      cleanup();
    }
  },
};
