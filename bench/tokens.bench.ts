import { Hono } from 'hono';
import { startSimulator } from '../dev/simulator';
import { createHubApp } from '../functions/index';
import { createTestHub, TEST_API_KEY, testApp } from '../functions/testing';
import { createDeps } from '../shared/platform/deps';
import { listen } from '../shared/platform/server';
import { runRefreshPass } from '../shared/tokens/refresh-pass';
import { httpLoad } from './http-load';
import type { Bench, BenchContext, BenchResult } from './lib';
import { formatMiB, median, peakRssBytes, sampleRss } from './lib';
import { discardingLog, sqliteBenchTarget } from './setup';

/** (a) `GET /v1/apps/{app}/token` served from the cache vs a bare Hono route on the same server. */
async function tokenRoute(ctx: BenchContext): Promise<BenchResult[]> {
  const app = testApp({ tokenMode: 'classic' });
  const { target, cleanup } = sqliteBenchTarget();
  const hub = await createTestHub(target, { apps: [app] });
  const deps = createDeps({ ...hub.deps, log: discardingLog() });
  // Two apps on one server: the hub exactly as `npm start` serves it, and a bare Hono app for
  // the baseline. (Mounting the hub under a root app would wrap every hub handler in an extra
  // error-handler layer that production does not have.)
  const hubApp = createHubApp(deps);
  const bareApp = new Hono();
  bareApp.get('/bare', (c) => c.json({ ok: true }));
  const server = await listen(
    {
      fetch: (req: Request, env?: unknown) =>
        req.url.endsWith('/bare') ? bareApp.fetch(req, env) : hubApp.fetch(req, env),
    },
    0,
    discardingLog(),
    '127.0.0.1',
  );
  try {
    const headers = { authorization: `Bearer ${TEST_API_KEY}` };
    const load = (path: string, durationMs: number) =>
      httpLoad({ url: `${server.url}${path}`, headers, concurrency: 32, durationMs });
    // HTTP paths need longer than the default warm-up before the JIT settles.
    const warmupMs = Math.max(ctx.warmupMs, 1_000);
    await load('/bare', warmupMs);
    const tokenPath = `/v1/apps/${app.name}/token`;
    await load(tokenPath, warmupMs);
    // Interleaved rounds (order alternating, so drift hits both alike), medians of each: single
    // runs on a small machine swing by a tenth or more. The per-round ratios show the spread.
    const rounds = 7;
    const bares: number[] = [];
    const tokens: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const tokenFirst = round % 2 === 1;
      const first = await load(tokenFirst ? tokenPath : '/bare', ctx.durationMs);
      const second = await load(tokenFirst ? '/bare' : tokenPath, ctx.durationMs);
      const [b, t] = tokenFirst ? [second, first] : [first, second];
      bares.push(b);
      tokens.push(t);
      ratios.push(t / b);
    }
    const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
    const bare = median(bares);
    const token = median(tokens);
    const spread = sorted(ratios);
    ctx.log(
      `bare Hono route: ${Math.round(bare)} req/s; token route (cached): ${Math.round(token)} req/s; ` +
        `ratio ${(token / bare).toFixed(2)} (goal >= 0.8); per-round ratios median ` +
        `${median(ratios).toFixed(2)}, range ${spread[0]?.toFixed(2)}-${spread.at(-1)?.toFixed(2)} ` +
        `over ${rounds} interleaved rounds`,
    );
    const baseline = { name: 'bare Hono route', opsPerSec: bare };
    return [
      { bench: 'GET /bare (baseline)', target: 'http', opsPerSec: bare },
      { bench: 'GET /v1/apps/{app}/token (cached)', target: 'http', opsPerSec: token, baseline },
    ];
  } finally {
    await server.close(1_000);
    await hub.close();
    cleanup();
  }
}

/** (b) One refresh pass over many credentials against the simulator over HTTP. */
async function refreshPass(ctx: BenchContext): Promise<BenchResult[]> {
  const count = Number(process.env.BENCH_REFRESH_CREDENTIALS ?? 10_000);
  const sim = await startSimulator();
  const { target, cleanup } = sqliteBenchTarget();
  const hub = await createTestHub(target, { sim });
  try {
    const now = sim.sim.clock.now();
    for (let i = 0; i < count; i++) {
      const app = testApp({
        tokenMode: 'classic',
        name: `bench-${i}`,
        appId: `wxbench${String(i).padStart(10, '0')}`,
      });
      sim.sim.registerApp({ appId: app.appId, secret: app.appSecret ?? '' });
      await hub.deps.store.apps.upsert(app, 'file', now);
    }
    ctx.log(`${count} apps stored and registered; running one refresh pass`);
    const rssBefore = sampleRss();
    const started = performance.now();
    const summary = await runRefreshPass({
      ...hub.deps,
      refreshAheadSeconds: undefined,
      concurrency: 16,
    });
    const seconds = (performance.now() - started) / 1000;
    const calls = sim.sim.calls('/cgi-bin/token');
    ctx.log(
      `refresh pass: ${count} credentials in ${seconds.toFixed(1)} s (${Math.round(count / seconds)}/s); ` +
        `upstream calls ${calls} (must equal ${count}); refreshed ${summary.refreshed}, failed ${summary.failed.length}; ` +
        `RSS ${formatMiB(rssBefore)} -> peak ${formatMiB(peakRssBytes())}`,
    );
    if (calls !== count) throw new Error(`expected ${count} upstream calls, saw ${calls}`);
    return [
      {
        bench: `refresh pass, ${count} credentials (per s)`,
        target: 'sqlite',
        opsPerSec: count / seconds,
      },
    ];
  } finally {
    await hub.close();
    await sim.close();
    cleanup();
  }
}

export const tokenRouteBench: Bench = { name: 'token-route', run: tokenRoute };
export const refreshPassBench: Bench = { name: 'refresh-pass', run: refreshPass };
