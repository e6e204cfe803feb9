import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A CommonJS script that loads an SCF bundle the way SCF does (`require`, then `main_handler`),
 * answers one event given as JSON in argv[3], and prints
 * `{"ms": <start → answer>, "cpuMs": <CPU time to the answer>, "result": …}`. Both count from
 * process start (`process.uptime()`, `process.cpuUsage()`: user + system of all its threads), so
 * they are the whole cold start.
 */
const RUNNER = `const bundle = require(process.argv[2]);
const event = JSON.parse(process.argv[3]);
Promise.resolve(bundle.main_handler(event, { request_id: "cold-start" })).then((result) => {
  const cpu = process.cpuUsage();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(JSON.stringify({ ms: process.uptime() * 1000, cpuMs, result }) + "\\n");
  process.exit(0);
}, (err) => { process.stderr.write(String(err && err.stack || err) + "\\n"); process.exit(2); });
`;

/** Writes the runner into `dir` and returns its path. */
export function writeRunner(dir: string): string {
  const file = join(dir, 'scf-runner.cjs');
  writeFileSync(file, RUNNER);
  return file;
}

export interface RunResult {
  /** Wall time from process start to the answer. */
  ms: number;
  /** CPU time (user + system) the process spent from its start to the answer. */
  cpuMs: number;
  result: unknown;
}

/** Runs `bundle` under plain `node` with `event`; rejects with stderr when it fails. */
export function runBundle(
  runner: string,
  bundle: string,
  event: unknown,
  env: Record<string, string | undefined>,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runner, bundle, JSON.stringify(event)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') {
        reject(new Error(`${bundle} exited ${code}: ${err.slice(0, 2000)}`));
        return;
      }
      resolve(JSON.parse(line) as RunResult);
    });
  });
}

/**
 * An API gateway GET event as Tencent sends it
 * (https://cloud.tencent.com/document/product/583/31439).
 */
export function apigwGet(path: string, headers: Record<string, string> = {}) {
  return {
    httpMethod: 'GET',
    path,
    headers: { host: 'service-abc.gz.apigw.tencentcs.com', ...headers },
    queryString: {},
    queryStringParameters: {},
    body: '',
    isBase64Encoded: false,
    requestContext: { requestId: 'cold-start', sourceIp: '203.0.113.9', stage: 'release' },
  };
}

/** A timer event (https://cloud.tencent.com/document/product/583/31439). */
export const TIMER_EVENT = {
  Type: 'Timer',
  TriggerName: 'refresh-every-minute',
  Time: '2026-11-21T10:00:00Z',
  Message: '',
};

/**
 * A copy of one of the fixture events in shared/platform/scf-fixtures (shaped like Tencent's
 * documented samples: `apigw-*` https://cloud.tencent.com/document/product/583/31439,
 * `function-url-*` https://cloud.tencent.com/document/product/583/96099), with some fields
 * replaced and `headers` merged.
 */
export function scfFixture(
  name: string,
  over: Record<string, unknown> & { headers?: Record<string, string> } = {},
): Record<string, unknown> {
  const file = join(import.meta.dirname, '../shared/platform/scf-fixtures', `${name}.json`);
  const base = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & {
    headers: Record<string, string>;
  };
  return { ...base, ...over, headers: { ...base.headers, ...over.headers } };
}
