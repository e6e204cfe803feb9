import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { createConnection } from 'mysql2/promise';
import { AUTHORIZER_TOKEN_KIND } from '../shared/component/authorizers';
import type { AppConfig } from '../shared/config';
import {
  MIGRATIONS_DIR,
  type OpenedStore,
  openTestStore,
  TEST_SECRET_KEY,
  type TestTarget,
} from '../shared/store/testing';
import { type HubChild, startHubProcess } from './hub-child';
import type { HubAllocations, HubMemory, HubPassResult } from './hub-process';
import type { Bench, BenchContext, BenchResult } from './lib';
import { formatMiB } from './lib';
import { sqliteBenchTarget } from './setup';
import { type SimChild, startSimProcess } from './sim-child';

const describeMemory = (m: HubMemory) =>
  `RSS ${formatMiB(m.rss)} (peak so far ${formatMiB(m.maxRss)}), heap ${formatMiB(m.heapUsed)} ` +
  `of ${formatMiB(m.heapTotal)}, external ${formatMiB(m.external)} ` +
  `(array buffers ${formatMiB(m.arrayBuffers)}); ` +
  m.spaces.map((x) => `${x.name} ${formatMiB(x.used)}/${formatMiB(x.size)}`).join(', ');

/**
 * (a) The timer's refresh pass with one component of 100,000 authorizers (BENCH_AUTHORIZERS),
 * seeded through the store with sealed refresh tokens and token expiries spread over 2 h, the
 * hub in a process of its own as `npm start` runs it (./hub-process.ts: bundled, plain `node`, the
 * production refresh step `refreshNow`; RSS and CPU reported are that process's), the simulator
 * (another process) answering
 * `api_authorizer_token`; one pass per simulated minute over BENCH_AUTHORIZER_HOURS simulated
 * hours: default 3 (the first pass's burst, then a whole token lifetime of steady passes, in a few
 * minutes); 24 for the whole day (about 10 minutes on SQLite). Steady state is every pass after
 * the first 2 simulated hours.
 *
 * Baseline: the pass with nothing due (the same database, right after seeding), so the ratio
 * says how many idle passes one steady-state pass costs.
 */

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const AUTHORIZER_TOKEN = '/cgi-bin/component/api_authorizer_token';
const COMPONENT_TOKEN = '/cgi-bin/component/api_component_token';
const AHEAD_MS = 10 * 60_000;
const LIFETIME_MS = 2 * 60 * 60_000;
/** Passes between progress lines (BENCH_AUTHORIZER_LOG_EVERY, default one per simulated hour). */
const LOG_EVERY = Number(process.env.BENCH_AUTHORIZER_LOG_EVERY ?? 60);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? 0;
};
const stats = (xs: number[]) =>
  `p50 ${pct(xs, 50).toFixed(0)} / p95 ${pct(xs, 95).toFixed(0)} / max ${Math.max(0, ...xs).toFixed(0)} ms`;

/** Rows of authorizer tokens expiring before `before` (the bench's own check, not timed). */
async function countDue(opened: OpenedStore, before: number): Promise<number> {
  const h = opened.handle;
  const q = `SELECT COUNT(*) AS n FROM credentials WHERE kind = '${AUTHORIZER_TOKEN_KIND}' AND expires_at < ${before}`;
  if (h.dialect === 'mysql') {
    const [rows] = await h.pool.query(q);
    return Number((rows as { n: number }[])[0]?.n ?? 0);
  }
  return Number((h.db.all(sql.raw(q)) as { n: number }[])[0]?.n ?? 0);
}

async function onTarget(ctx: BenchContext, target: TestTarget): Promise<BenchResult[]> {
  const count = Number(process.env.BENCH_AUTHORIZERS ?? 100_000);
  const hours = Number(process.env.BENCH_AUTHORIZER_HOURS ?? 3);
  const start = Date.UTC(2026, 0, 1);
  let now = start;
  let sim: SimChild | undefined;
  let opened: OpenedStore | undefined;
  let hub: HubChild | undefined;
  try {
    sim = await startSimProcess(start);
    const app: AppConfig = {
      name: 'bench-component',
      kind: 'component',
      appId: 'wxcbench0000000001',
      appSecret: 'bench-component-secret',
      token: 'BenchToken',
      encodingAesKey: AES_KEY,
      tokenMode: 'classic',
      messageMode: 'safe',
      forward: [],
    };
    const { ticket, createTime } = await sim.call<{ ticket: string; createTime: number }>({
      op: 'component',
      cfg: {
        appId: app.appId,
        secret: app.appSecret ?? '',
        token: 'BenchToken',
        encodingAesKey: AES_KEY,
      },
    });
    // Seeded by the simulator's process (through the store, like the hub would write them), so
    // the garbage of 300,000 writes is not in this process's heap.
    const seedStarted = performance.now();
    await sim.call({ op: 'seed', target, appName: app.name, appId: app.appId, count, start });
    ctx.log(
      `${target.name}: ${count} authorizers seeded in ${((performance.now() - seedStarted) / 1000).toFixed(0)} s`,
    );
    opened = await openTestStore(target, { poolSize: 16 });
    const { store } = opened;
    await store.apps.upsert(app, 'file', now);
    await store.credentials.putIfNewer(
      { owner: `app:${app.name}`, kind: 'component_verify_ticket' },
      { value: ticket, expiresAt: createTime * 1000 + 12 * 3600_000 },
      now,
    );
    hub = await startHubProcess(start - 60 * 60_000, {
      DATABASE_URL:
        target.config.dialect === 'mysql' ? target.config.url : `file:${target.config.path}`,
      WXHUB_SECRET_KEY: TEST_SECRET_KEY.toString('base64'),
      WXHUB_MIGRATIONS_DIR: MIGRATIONS_DIR,
      WECHAT_API_BASE: sim.url,
      WXHUB_API_KEYS: 'bench-key-0123456789abcdef',
    });
    const idleHub = await hub.call<HubMemory>({ op: 'memory' });
    ctx.log(
      `${target.name}: hub started (node, bundled), before any pass: ${describeMemory(idleHub)}`,
    );
    const pass = async (at: number) => {
      const r = await (hub as HubChild).call<HubPassResult>({ op: 'pass', now: at });
      lastMemory = r.memory;
      return r;
    };
    let lastMemory = idleHub;

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
    const callsBefore = (await sim.call<{ calls: number }>({ op: 'calls', path: AUTHORIZER_TOKEN }))
      .calls;
    const passes = Math.round(hours * 60);
    const runStarted = performance.now();
    let firstWall = 0;
    for (let p = 0; p < passes; p++) {
      if (p > 0) {
        now += 60_000;
        await sim.call({ op: 'advance', ms: 60_000 });
      }
      // The ticket is pushed every 10 minutes by WeChat; here it is kept valid by re-seeding it.
      if (p % 600 === 0 && p > 0) {
        const pushed = await sim.call<{ ticket: string; createTime: number }>({
          op: 'component',
          cfg: {
            appId: app.appId,
            secret: app.appSecret ?? '',
            token: 'BenchToken',
            encodingAesKey: AES_KEY,
          },
        });
        await store.credentials.putIfNewer(
          { owner: `app:${app.name}`, kind: 'component_verify_ticket' },
          { value: pushed.ticket, expiresAt: pushed.createTime * 1000 + 12 * 3600_000 },
          now,
        );
      }
      const due = await countDue(opened, now + AHEAD_MS);
      const summary = await pass(now);
      const wall = summary.wallMs;
      const cpuMs = summary.cpuMs;
      // Renewed by this pass: the rows that left the 10-minute window (the rest, more than 5
      // minutes from expiry, are left to the next passes of their window); none may expire.
      const left = await countDue(opened, now + AHEAD_MS);
      const expired = await countDue(opened, now);
      if (expired > 0) throw new Error(`${expired} authorizer tokens expired at ${now}`);
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
      if (p % LOG_EVERY === 0) {
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
    const calls =
      (await sim.call<{ calls: number }>({ op: 'calls', path: AUTHORIZER_TOKEN })).calls -
      callsBefore;
    const componentCalls = (
      await sim.call<{ calls: number }>({ op: 'calls', path: COMPONENT_TOKEN })
    ).calls;
    const simRss = (await sim.call<{ rss: number }>({ op: 'rss' })).rss;
    const dueMean = steadyDue.reduce((a, b) => a + b, 0) / Math.max(1, steadyDue.length);
    ctx.log(
      `${target.name}: ${passes} passes (${hours} simulated h) in ${runSeconds.toFixed(0)} s; ` +
        `api_authorizer_token calls ${calls} (authorizer tokens renewed, summed over passes: ${totalDue}; none expired); ` +
        `refreshed ${refreshed}, failed entries ${failed}; api_component_token calls ${componentCalls}`,
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
        bench: 'refresh pass, nothing due (baseline)',
        target: target.name,
        opsPerSec: 1000 / idleMedian,
      },
      {
        bench: `refresh pass, ${count} authorizers, steady p50 (passes/s)`,
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

async function authorizerPass(ctx: BenchContext): Promise<BenchResult[]> {
  const { target, cleanup } = sqliteBenchTarget();
  const rows: BenchResult[] = [];
  try {
    rows.push(...(await onTarget(ctx, target)));
  } finally {
    cleanup();
  }
  const url = process.env.BENCH_MYSQL_URL;
  if (url === undefined || url === '') {
    ctx.log('MySQL: skipped, set BENCH_MYSQL_URL');
    return rows;
  }
  // A database of its own on that server, dropped at the end.
  const own = new URL(url);
  const name = `wxhub_bench_authz_${process.pid}`;
  own.pathname = `/${name}`;
  try {
    rows.push(
      ...(await onTarget(ctx, {
        name: 'mysql',
        config: { dialect: 'mysql', url: own.toString() },
      })),
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

export const authorizerPassBench: Bench = { name: 'authorizer-pass', run: authorizerPass };
