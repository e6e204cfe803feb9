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
import { apigwGet, runBundle, writeRunner } from '../scripts/scf-runner';
import type { Bench, BenchContext, BenchResult } from './lib';
import { median } from './lib';

const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 11);

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

/**
 * Cold start of each function's SCF bundle — process start to the first answered API gateway
 * event (`GET /healthz`, database already migrated, as on a deployed function) — against a bare
 * Hono hello bundle built the same way. Each function is measured in rounds right next to a hello
 * run (order alternating), and the goal (≤ 1.5 × hello) is judged on the median of those paired
 * ratios: drift of the machine between rounds cancels out, which medians of each side do not.
 * On the embedded database always; on MySQL too when `BENCH_MYSQL_URL` or `TEST_MYSQL_URL` is set
 * (what a deployed function runs on; its cold start then includes connecting).
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
    const databases: { label: string; env: (name: string) => Record<string, string> }[] = [
      {
        label: 'embedded SQLite',
        env: (name) => ({ DATABASE_URL: `file:${join(dir, `${name}.db`)}` }),
      },
    ];
    if (mysqlUrl !== undefined) {
      const key = randomBytes(32).toString('base64');
      databases.push({
        label: 'MySQL',
        env: () => ({ DATABASE_URL: mysqlUrl, WXHUB_SECRET_KEY: key }),
      });
    }
    const baseEnv = {
      PATH: process.env.PATH ?? '',
      NODE_PATH: resolve('node_modules'),
      WXHUB_DATA_DIR: dir,
      LOG_LEVEL: 'silent',
    };
    const event = apigwGet('/healthz');
    const rows: BenchResult[] = [];
    for (const db of databases) {
      const env = (name: string) => ({ ...baseEnv, ...db.env(name) });
      // Untimed first run per function: creates and migrates its database, like a deploy would.
      for (const b of bundles) await runBundle(runner, b.file, event, env(b.name));
      const helloTimes: number[] = [];
      const times = new Map(bundles.map((b) => [b.name, [] as number[]]));
      const ratios = new Map(bundles.map((b) => [b.name, [] as number[]]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const b of bundles) {
          const helloFirst = round % 2 === 0;
          const first = await runBundle(runner, helloFirst ? hello : b.file, event, env('hello'));
          const second = await runBundle(runner, helloFirst ? b.file : hello, event, env(b.name));
          const [h, f] = helloFirst ? [first.ms, second.ms] : [second.ms, first.ms];
          helloTimes.push(h);
          times.get(b.name)?.push(f);
          ratios.get(b.name)?.push(f / h);
        }
      }
      const helloMs = median(helloTimes);
      ctx.log(
        `${db.label}: hello ${helloMs.toFixed(0)} ms cold start, ${kib(statSync(hello).size)}`,
      );
      const baseline = { name: 'bare Hono hello bundle (starts/s)', opsPerSec: 1000 / helloMs };
      rows.push({
        bench: `cold start, ${db.label}: hello (baseline, starts/s)`,
        target: 'node',
        opsPerSec: 1000 / helloMs,
      });
      for (const name of FUNCTION_NAMES) {
        const b = bundles.find((x) => x.name === name);
        const ms = median(times.get(name) ?? []);
        const paired = [...(ratios.get(name) ?? [])].sort((x, y) => x - y);
        const ratio = median(paired);
        const top = packagesBySize(await metafileOf(name))
          .slice(0, 4)
          .map(([p, n]) => `${p} ${kib(n)}`)
          .join(', ');
        const d = b?.dialectBytes;
        ctx.log(
          `${db.label}, ${name}: ${ratio.toFixed(2)} x hello (goal <= 1.5; median of ${paired.length} ` +
            `paired rounds, range ${paired[0]?.toFixed(2)}-${paired.at(-1)?.toFixed(2)}), ` +
            `${ms.toFixed(0)} ms; bundle ${kib(b?.bytes ?? 0)} (${top}) + ` +
            `sqlite.js ${kib(d?.sqlite ?? 0)} or mysql.js ${kib(d?.mysql ?? 0)}`,
        );
        // Starts per second at the paired ratio, so the table's ratio is the goal's figure.
        rows.push({
          bench: `cold start, ${db.label}: ${name} (starts/s)`,
          target: 'node',
          opsPerSec: 1000 / (helloMs * ratio),
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
