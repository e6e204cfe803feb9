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

const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 7);

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
 * event (`GET /healthz`, embedded database already migrated, as on a deployed function) — against
 * a bare Hono hello bundle built the same way, interleaved rounds, medians. Goal ≤ 1.5 × hello.
 */
async function coldStart(ctx: BenchContext): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'wxhub-cold-'));
  try {
    const bundles = await buildFunctionBundles(join(dir, 'scf'));
    const hello = await buildHello(dir);
    const runner = writeRunner(dir);
    const env = (name: string) => ({
      PATH: process.env.PATH,
      NODE_PATH: resolve('node_modules'),
      DATABASE_URL: `file:${join(dir, `${name}.db`)}`,
      WXHUB_DATA_DIR: dir,
      LOG_LEVEL: 'silent',
    });
    const event = apigwGet('/healthz');
    // Untimed first run per function: creates and migrates its database, like a deploy would.
    for (const b of bundles) await runBundle(runner, b.file, event, env(b.name));
    const times = new Map<string, number[]>([['hello', []]]);
    for (let round = 0; round < ROUNDS; round++) {
      times.get('hello')?.push((await runBundle(runner, hello, event, env('hello'))).ms);
      for (const b of bundles) {
        const list = times.get(b.name) ?? [];
        list.push((await runBundle(runner, b.file, event, env(b.name))).ms);
        times.set(b.name, list);
      }
    }
    const helloMs = median(times.get('hello') ?? []);
    ctx.log(`hello: ${helloMs.toFixed(0)} ms cold start, ${kib(statSync(hello).size)}`);
    const baseline = { name: 'bare Hono hello bundle (starts/s)', opsPerSec: 1000 / helloMs };
    const rows: BenchResult[] = [
      {
        bench: 'cold start: hello (baseline, starts/s)',
        target: 'node',
        opsPerSec: 1000 / helloMs,
      },
    ];
    for (const name of FUNCTION_NAMES) {
      const b = bundles.find((x) => x.name === name);
      const ms = median(times.get(name) ?? []);
      const top = packagesBySize(await metafileOf(name))
        .slice(0, 4)
        .map(([p, n]) => `${p} ${kib(n)}`)
        .join(', ');
      const d = b?.dialectBytes;
      ctx.log(
        `${name}: ${ms.toFixed(0)} ms cold start, ${(ms / helloMs).toFixed(2)} x hello (goal <= 1.5); bundle ${kib(b?.bytes ?? 0)} (${top}) + sqlite.js ${kib(d?.sqlite ?? 0)} (mysql.js ${kib(d?.mysql ?? 0)})`,
      );
      rows.push({
        bench: `cold start: ${name} (starts/s)`,
        target: 'node',
        opsPerSec: 1000 / ms,
        baseline,
      });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const coldStartBench: Bench = { name: 'cold-start', run: coldStart };
