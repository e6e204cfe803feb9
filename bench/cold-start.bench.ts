import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';
import {
  buildFunctionBundles,
  dialectFilesPlugin,
  FUNCTION_NAMES,
  SCF_BUILD_OPTIONS,
} from '../scripts/build-lib';
import { apigwGet, type RunResult, runBundle, writeRunner } from '../scripts/scf-runner';
import type { Bench, BenchContext, BenchResult } from './lib';
import { median } from './lib';

/**
 * Paired rounds per function. The functions sit a few percent under the goal, and the median of
 * 15 pairs moved by ±0.03 between runs on an idle machine (proxy: 1.44–1.47 over 45 pairs in five
 * runs, 1.42–1.52 over 15 in thirteen): 45 give a verdict that does not flip with the noise.
 */
const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 45);

/** The goal: each function's cold start costs at most this many times the hello bundle's. */
export const COLD_START_GOAL = 1.5;

/**
 * The first request each function's bundle answers in the bench: its cheapest real route, with
 * the status that shows it ran as meant. The admin function's is the console's session check
 * (`GET /admin/api/me` without a session: 401), which goes through its session layer.
 */
const FIRST_REQUESTS: Record<string, { path: string; status: number }> = {
  admin: { path: '/admin/api/me', status: 401 },
};
const HEALTHZ = { path: '/healthz', status: 200 };

export function coldStartRequest(name: string): { path: string; status: number } {
  return FIRST_REQUESTS[name] ?? HEALTHZ;
}

/** The baseline: a bare Hono "hello" event function, bundled the same way as the functions. */
const HELLO = `import { Hono } from 'hono';
const app = new Hono().get('/healthz', (c) => c.json({ status: 'ok' }));
export async function main_handler(event) {
  const res = await app.fetch(new Request('http://localhost' + event.path, { method: event.httpMethod }));
  return { isBase64Encoded: false, statusCode: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}
`;

async function buildHello(dir: string): Promise<string> {
  const out = join(dir, 'hello');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'package.json'), '{ "type": "commonjs" }\n');
  const file = join(out, 'index.js');
  await build({
    ...SCF_BUILD_OPTIONS,
    stdin: { contents: HELLO, resolveDir: resolve('.'), loader: 'js' },
    outfile: file,
  });
  return file;
}

/** Bytes each npm package contributes to a bundle, largest first. */
function packagesBySize(meta: Metafile): [string, number][] {
  const sizes = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = m?.[1] ?? '(wxhub)';
      sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes].sort((a, b) => b[1] - a[1]);
}

async function metafileOf(name: string): Promise<Metafile> {
  const r = await build({
    ...SCF_BUILD_OPTIONS,
    entryPoints: [`functions/${name}/scf.ts`],
    write: false,
    metafile: true,
    outfile: 'out.js',
    logLevel: 'silent',
    plugins: [dialectFilesPlugin],
  });
  return r.metafile;
}

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

/** `x.xx` with the range of a sorted list. */
function ratioSummary(sorted: number[]): string {
  return `${median(sorted).toFixed(2)} (range ${sorted[0]?.toFixed(2)}-${sorted.at(-1)?.toFixed(2)})`;
}

/** Runs one bundle and checks that it answered its first request as meant. */
async function coldRun(
  runner: string,
  file: string,
  req: { path: string; status: number },
  env: Record<string, string>,
): Promise<RunResult> {
  const r = await runBundle(runner, file, apigwGet(req.path), env);
  const status = (r.result as { statusCode?: unknown } | null)?.statusCode;
  if (status !== req.status) {
    throw new Error(`${file} answered GET ${req.path} with ${String(status)}, not ${req.status}`);
  }
  return r;
}

/**
 * Cold start of each function's SCF bundle — process start to the first answered API gateway
 * event ({@link coldStartRequest}: `GET /healthz`, the admin function `GET /admin/api/me`;
 * database already migrated, as on a deployed function) — against a bare Hono hello bundle built
 * the same way, answering `GET /healthz`. In every round each function runs right next to a hello
 * run (order alternating), and each pair gives a ratio of CPU time (user + system of the child,
 * from `process.cpuUsage()` at its answer) and one of wall time. The goal (≤ 1.5 × hello, on the
 * embedded database) is judged on the median of the paired CPU ratios: on a busy machine the
 * wall time of a child is mostly how long it waited for a core, its CPU time is the work it did.
 * The wall ratio is printed beside it. On MySQL too when `BENCH_MYSQL_URL` or `TEST_MYSQL_URL` is
 * set (what a deployed function runs on; its cold start then includes loading `mysql2` and
 * connecting, which hello does not do: shown for reference, not judged).
 */
async function coldStart(ctx: BenchContext): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'wxhub-cold-'));
  try {
    const bundles = await buildFunctionBundles(join(dir, 'scf'));
    const hello = await buildHello(dir);
    const runner = writeRunner(dir);
    const mysqlUrl = [process.env.BENCH_MYSQL_URL, process.env.TEST_MYSQL_URL].find(
      (u) => u !== undefined && u !== '',
    );
    if (mysqlUrl === undefined) ctx.log('MySQL: skipped, set BENCH_MYSQL_URL');
    const databases: {
      label: string;
      judged: boolean;
      env: (name: string) => Record<string, string>;
    }[] = [
      {
        label: 'embedded SQLite',
        judged: true,
        env: (name) => ({ DATABASE_URL: `file:${join(dir, `${name}.db`)}` }),
      },
    ];
    if (mysqlUrl !== undefined) {
      const key = randomBytes(32).toString('base64');
      databases.push({
        label: 'MySQL',
        judged: false,
        env: () => ({ DATABASE_URL: mysqlUrl, WXHUB_SECRET_KEY: key }),
      });
    }
    const baseEnv = {
      PATH: process.env.PATH ?? '',
      NODE_PATH: resolve('node_modules'),
      WXHUB_DATA_DIR: dir,
      LOG_LEVEL: 'silent',
    };
    ctx.log(
      `goal: CPU time to the first answer <= ${COLD_START_GOAL} x hello's on the embedded ` +
        `database, judged on the median of ${ROUNDS} paired rounds (BENCH_COLD_ROUNDS); ` +
        'wall time shown beside it',
    );
    const rows: BenchResult[] = [];
    for (const db of databases) {
      const env = (name: string) => ({ ...baseEnv, ...db.env(name) });
      // Untimed first run per function: creates and migrates its database, like a deploy would.
      for (const b of bundles) await coldRun(runner, b.file, coldStartRequest(b.name), env(b.name));
      const helloRuns: RunResult[] = [];
      const runs = new Map(bundles.map((b) => [b.name, [] as RunResult[]]));
      const cpuRatios = new Map(bundles.map((b) => [b.name, [] as number[]]));
      const wallRatios = new Map(bundles.map((b) => [b.name, [] as number[]]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const b of bundles) {
          const runHello = () => coldRun(runner, hello, HEALTHZ, env('hello'));
          const runFn = () => coldRun(runner, b.file, coldStartRequest(b.name), env(b.name));
          let h: RunResult;
          let f: RunResult;
          if (round % 2 === 0) {
            h = await runHello();
            f = await runFn();
          } else {
            f = await runFn();
            h = await runHello();
          }
          helloRuns.push(h);
          runs.get(b.name)?.push(f);
          cpuRatios.get(b.name)?.push(f.cpuMs / h.cpuMs);
          wallRatios.get(b.name)?.push(f.ms / h.ms);
        }
      }
      const helloCpu = median(helloRuns.map((r) => r.cpuMs));
      const helloMs = median(helloRuns.map((r) => r.ms));
      ctx.log(
        `${db.label}: hello ${helloCpu.toFixed(1)} ms CPU, ${helloMs.toFixed(0)} ms wall ` +
          `(medians), ${kib(statSync(hello).size)}`,
      );
      const baseline = {
        name: 'bare Hono hello bundle (starts/CPU-s)',
        opsPerSec: 1000 / helloCpu,
      };
      rows.push({
        bench: `cold start, ${db.label}: hello (baseline, starts/CPU-s)`,
        target: 'node',
        opsPerSec: 1000 / helloCpu,
      });
      for (const name of FUNCTION_NAMES) {
        const b = bundles.find((x) => x.name === name);
        const fnRuns = runs.get(name) ?? [];
        const cpu = [...(cpuRatios.get(name) ?? [])].sort((x, y) => x - y);
        const wall = [...(wallRatios.get(name) ?? [])].sort((x, y) => x - y);
        const ratio = median(cpu);
        const verdict = !db.judged
          ? 'not judged'
          : ratio <= COLD_START_GOAL
            ? `within the goal <= ${COLD_START_GOAL}`
            : `OVER the goal <= ${COLD_START_GOAL}`;
        const top = packagesBySize(await metafileOf(name))
          .slice(0, 4)
          .map(([p, n]) => `${p} ${kib(n)}`)
          .join(', ');
        const d = b?.dialectBytes;
        ctx.log(
          `${db.label}, ${name} (GET ${coldStartRequest(name).path}): CPU ${ratioSummary(cpu)} ` +
            `x hello, ${verdict}; wall ${ratioSummary(wall)} x hello; ` +
            `${median(fnRuns.map((r) => r.cpuMs)).toFixed(1)} ms CPU, ` +
            `${median(fnRuns.map((r) => r.ms)).toFixed(0)} ms wall; bundle ${kib(b?.bytes ?? 0)} ` +
            `(${top}) + sqlite.js ${kib(d?.sqlite ?? 0)} or mysql.js ${kib(d?.mysql ?? 0)}`,
        );
        // Starts per CPU-second at the paired ratio, so the table's ratio is the goal's figure.
        rows.push({
          bench: `cold start, ${db.label}: ${name} (starts/CPU-s)`,
          target: 'node',
          opsPerSec: 1000 / (helloCpu * ratio),
          baseline,
        });
      }
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const coldStartBench: Bench = { name: 'cold-start', run: coldStart };
