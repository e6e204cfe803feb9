import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { createConnection } from 'mysql2/promise';
import type { AppConfig } from '../shared/config';
import type { Store } from '../shared/store';
import {
  MIGRATIONS_DIR,
  type OpenedStore,
  openTestStore,
  TEST_SECRET_KEY,
  type TestTarget,
} from '../shared/store/testing';
import { type HubChild, startHubProcess } from './hub-child';
import type { HubAllocations, HubMemory, HubPassResult } from './hub-process';
import type { BenchContext, BenchResult } from './lib';
import { formatMiB } from './lib';
import { sqliteBenchTarget } from './setup';
import { type SimChild, startSimProcess } from './sim-child';

/**
 * The timer's refresh pass over a platform with many tenants, each with a token of its own
 * renewed from a sealed secret (a component's authorizers: ./authorizers.bench.ts; a WeCom
 * suite's corps: ./corps.bench.ts). The store is seeded with `count` tenants whose token expiries
 * are spread over 2 h; the hub runs in a process of its own as `npm start` runs it
 * (./hub-process.ts: bundled, plain `node`, the production refresh step `refreshNow`; RSS and
 * CPU reported are that process's), the simulator in another, answering the token calls; one pass
 * per simulated minute over `hours` simulated hours. Steady state is every pass after the first
 * 2 simulated hours.
 *
 * Baseline: the pass with nothing due (the same database, right after seeding), so the ratio
 * says how many idle passes one steady-state pass costs.
 */

const AHEAD_MS = 10 * 60_000;
const LIFETIME_MS = 2 * 60 * 60_000;

/** A ticket the platform pushed, to be kept as the hub would keep it. */
export interface BenchTicket {
  kind: string;
  value: string;
  expiresAt: number;
}

/** What differs between platforms. */
export interface TenantPassCase {
  /** What a tenant is, in the lines printed ("authorizer", "corp"). */
  tenant: string;
  app: AppConfig;
  /** Credential kind of the tenants' tokens. */
  tokenKind: string;
  /** The simulator's path of one tenant token call (counted), and of the shared token's. */
  tokenPath: string;
  sharedPath: string;
  count: number;
  hours: number;
  /** Passes between progress lines. */
  logEvery: number;
  /** Extra environment of the hub process (the platform's API base). */
  hubEnv: (simUrl: string) => Record<string, string>;
  /** Registers the app in the simulator and mints a ticket (called again every `ticketEvery` passes). */
  ticket: (sim: SimChild) => Promise<BenchTicket>;
  ticketEvery: number;
  /** Seeds the tenants in the store and the simulator (in the simulator's process). */
  seed: (sim: SimChild, target: TestTarget, start: number) => Promise<void>;
}

export const describeMemory = (m: HubMemory) =>
  `RSS ${formatMiB(m.rss)} (peak so far ${formatMiB(m.maxRss)}), heap ${formatMiB(m.heapUsed)} ` +
  `of ${formatMiB(m.heapTotal)}, external ${formatMiB(m.external)} ` +
  `(array buffers ${formatMiB(m.arrayBuffers)}); ` +
  m.spaces.map((x) => `${x.name} ${formatMiB(x.used)}/${formatMiB(x.size)}`).join(', ');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? 0;
};
const stats = (xs: number[]) =>
  `p50 ${pct(xs, 50).toFixed(0)} / p95 ${pct(xs, 95).toFixed(0)} / max ${Math.max(0, ...xs).toFixed(0)} ms`;

/** Rows of `kind` expiring before `before` (the bench's own check, not timed). */
async function countDue(opened: OpenedStore, kind: string, before: number): Promise<number> {
  const h = opened.handle;
  const q = `SELECT COUNT(*) AS n FROM credentials WHERE kind = '${kind}' AND expires_at < ${before}`;
  if (h.dialect === 'mysql') {
    const [rows] = await h.pool.query(q);
    return Number((rows as { n: number }[])[0]?.n ?? 0);
  }
  return Number((h.db.all(sql.raw(q)) as { n: number }[])[0]?.n ?? 0);
}

async function keepTicket(store: Store, c: TenantPassCase, t: BenchTicket, now: number) {
  await store.credentials.putIfNewer(
    { owner: `app:${c.app.name}`, kind: t.kind },
    { value: t.value, expiresAt: t.expiresAt },
    now,
  );
}

async function onTarget(
  ctx: BenchContext,
  target: TestTarget,
  c: TenantPassCase,
): Promise<BenchResult[]> {
  const start = Date.UTC(2026, 0, 1);
  let now = start;
  let sim: SimChild | undefined;
  let opened: OpenedStore | undefined;
  let hub: HubChild | undefined;
  try {
    sim = await startSimProcess(start);
    const first = await c.ticket(sim);
    // Seeded by the simulator's process (through the store, like the hub would write them), so
    // the garbage of the seeding writes is not in this process's heap.
    const seedStarted = performance.now();
    await c.seed(sim, target, start);
    ctx.log(
      `${target.name}: ${c.count} ${c.tenant}s seeded in ${((performance.now() - seedStarted) / 1000).toFixed(0)} s`,
    );
    opened = await openTestStore(target, { poolSize: 16 });
    const { store } = opened;
    await store.apps.upsert(c.app, 'file', now);
    await keepTicket(store, c, first, now);
    hub = await startHubProcess(start - 60 * 60_000, {
      DATABASE_URL:
        target.config.dialect === 'mysql' ? target.config.url : `file:${target.config.path}`,
      WXHUB_SECRET_KEY: TEST_SECRET_KEY.toString('base64'),
      WXHUB_MIGRATIONS_DIR: MIGRATIONS_DIR,
      WECHAT_API_BASE: sim.url,
      WXHUB_API_KEYS: 'bench-key-0123456789abcdef',
      ...c.hubEnv(sim.url),
    });
    const idleHub = await hub.call<HubMemory>({ op: 'memory' });
    ctx.log(
      `${target.name}: hub started (node, bundled), before any pass: ${describeMemory(idleHub)}`,
    );
    let lastMemory = idleHub;
    const pass = async (at: number) => {
      const r = await (hub as HubChild).call<HubPassResult>({ op: 'pass', now: at });
      lastMemory = r.memory;
      return r;
    };

    // Baseline: a pass that finds nothing due (clock before the earliest expiry's window).
    now = start - 60 * 60_000;
    await sim.call({ op: 'advance', ms: -60 * 60_000 });
    const idle: number[] = [];
    for (let i = 0; i < 5; i++) idle.push((await pass(now)).wallMs);
    await sim.call({ op: 'advance', ms: 60 * 60_000 });
    now = start;

    const steadyWall: number[] = [];
    const steadyDb: number[] = [];
    const steadyDue: number[] = [];
    const steadyCpu: number[] = [];
    let totalDue = 0;
    let refreshed = 0;
    let failed = 0;
    const callsOf = async (path: string) =>
      (await (sim as SimChild).call<{ calls: number }>({ op: 'calls', path })).calls;
    const callsBefore = await callsOf(c.tokenPath);
    const passes = Math.round(c.hours * 60);
    const runStarted = performance.now();
    let firstWall = 0;
    for (let p = 0; p < passes; p++) {
      if (p > 0) {
        now += 60_000;
        await sim.call({ op: 'advance', ms: 60_000 });
      }
      // The platform pushes its ticket on its own schedule; here it is kept valid by minting one.
      if (p % c.ticketEvery === 0 && p > 0) await keepTicket(store, c, await c.ticket(sim), now);
      const due = await countDue(opened, c.tokenKind, now + AHEAD_MS);
      const summary = await pass(now);
      const wall = summary.wallMs;
      const cpuMs = summary.cpuMs;
      // Renewed by this pass: the rows that left the 10-minute window (the rest, more than 5
      // minutes from expiry, are left to the next passes of their window); none may expire.
      const left = await countDue(opened, c.tokenKind, now + AHEAD_MS);
      const expired = await countDue(opened, c.tokenKind, now);
      if (expired > 0) throw new Error(`${expired} ${c.tenant} tokens expired at ${now}`);
      totalDue += due - left;
      refreshed += summary.refreshed;
      failed += summary.failed;
      if (p === 0) firstWall = wall;
      if (now - start >= LIFETIME_MS) {
        steadyWall.push(wall);
        steadyDb.push(summary.storeMs);
        steadyCpu.push(cpuMs);
        steadyDue.push(due - left);
      }
      if (p % c.logEvery === 0) {
        ctx.log(
          `${target.name}: hour ${(p / 60).toFixed(0)}: ${due} in the window, ${due - left} renewed, ` +
            `pass ${wall.toFixed(0)} ms ` +
            `(${summary.storeCalls} store calls, ${summary.storeMs.toFixed(0)} ms summed, hub CPU ${cpuMs.toFixed(0)} ms), ` +
            `hub ${describeMemory(summary.memory)}`,
        );
      }
    }
    const allocated = await hub.call<HubAllocations | null>({ op: 'allocations' });
    if (allocated !== null) {
      const lines = (xs: HubAllocations['self']) =>
        xs.map((x) => `    ${x.mib.toFixed(1).padStart(8)} MiB  ${x.site}`).join('\n');
      ctx.log(
        `${target.name}: hub allocated ${allocated.totalMiB.toFixed(0)} MiB over the passes; ` +
          `largest sites, own allocations:\n${lines(allocated.self)}\n  ` +
          `with what they call:\n${lines(allocated.inclusive)}`,
      );
    }
    const runSeconds = (performance.now() - runStarted) / 1000;
    const calls = (await callsOf(c.tokenPath)) - callsBefore;
    const sharedCalls = await callsOf(c.sharedPath);
    const simRss = (await sim.call<{ rss: number }>({ op: 'rss' })).rss;
    const dueMean = steadyDue.reduce((a, b) => a + b, 0) / Math.max(1, steadyDue.length);
    const tokenCall = c.tokenPath.split('/').at(-1);
    ctx.log(
      `${target.name}: ${passes} passes (${c.hours} simulated h) in ${runSeconds.toFixed(0)} s; ` +
        `${tokenCall} calls ${calls} (${c.tenant} tokens renewed, summed over passes: ${totalDue}; none expired); ` +
        `refreshed ${refreshed}, failed entries ${failed}; ${c.sharedPath.split('/').at(-1)} calls ${sharedCalls}`,
    );
    ctx.log(
      `${target.name}: first pass ${firstWall.toFixed(0)} ms; steady state (${steadyWall.length} passes, ` +
        `${dueMean.toFixed(0)} renewed per pass on average, max ${Math.max(0, ...steadyDue)}): ` +
        `wall ${stats(steadyWall)}; store time (summed) ${stats(steadyDb)}; hub CPU ${stats(steadyCpu)}; ` +
        `idle pass ${stats(idle)}`,
    );
    ctx.log(
      `${target.name}: hub process RSS before the first pass ${formatMiB(idleHub.rss)}, peak ` +
        `${formatMiB(lastMemory.maxRss)} (goal <= 256 MiB), peak minus idle ` +
        `${formatMiB(lastMemory.maxRss - idleHub.rss)}; simulator process ${formatMiB(simRss)}; ` +
        `steady pass p95 goal <= 2000 ms`,
    );
    if (calls !== totalDue) throw new Error(`expected ${totalDue} upstream calls, saw ${calls}`);
    const idleMedian = pct(idle, 50);
    const baseline = { name: 'idle pass', opsPerSec: 1000 / idleMedian };
    return [
      {
        bench: `refresh pass, nothing due (baseline, ${c.tenant}s)`,
        target: target.name,
        opsPerSec: 1000 / idleMedian,
      },
      {
        bench: `refresh pass, ${c.count} ${c.tenant}s, steady p50 (passes/s)`,
        target: target.name,
        opsPerSec: 1000 / Math.max(1, pct(steadyWall, 50)),
        baseline,
      },
    ];
  } finally {
    hub?.close();
    sim?.close();
    await opened?.store.close();
  }
}

/**
 * Runs `c` on SQLite (a temp file), then on MySQL when BENCH_MYSQL_URL is set, in a database of
 * its own on that server (`<dbPrefix>_<pid>`), dropped at the end.
 */
export async function tenantPass(
  ctx: BenchContext,
  c: TenantPassCase,
  dbPrefix: string,
): Promise<BenchResult[]> {
  const { target, cleanup } = sqliteBenchTarget();
  const rows: BenchResult[] = [];
  try {
    rows.push(...(await onTarget(ctx, target, c)));
  } finally {
    cleanup();
  }
  const url = process.env.BENCH_MYSQL_URL;
  if (url === undefined || url === '') {
    ctx.log('MySQL: skipped, set BENCH_MYSQL_URL');
    return rows;
  }
  const own = new URL(url);
  const name = `${dbPrefix}_${process.pid}`;
  own.pathname = `/${name}`;
  try {
    rows.push(
      ...(await onTarget(
        ctx,
        { name: 'mysql', config: { dialect: 'mysql', url: own.toString() } },
        c,
      )),
    );
  } finally {
    const base = new URL(url);
    base.pathname = '/';
    const conn = await createConnection(base.toString());
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await conn.end();
  }
  return rows;
}
