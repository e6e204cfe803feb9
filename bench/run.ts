import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { authorizerPassBench } from './authorizers.bench';
import { callbackCryptoBench, callbackPushBench } from './callbacks.bench';
import { coldStartBench } from './cold-start.bench';
import { corpPassBench } from './corps.bench';
import type { Bench, BenchContext, BenchResult } from './lib';
import { envMs, formatMiB, peakRssBytes, printTable } from './lib';
import { payCryptoBench } from './pay.bench';
import { payNotifyBench } from './pay-notify.bench';
import { proxyStreamBench } from './proxy.bench';
import { storeBench } from './store.bench';
import { refreshPassBench, tokenRouteBench } from './tokens.bench';

/** Every benchmark module, run in this order by `npm run bench`. */
const BENCHES: Bench[] = [
  storeBench,
  tokenRouteBench,
  refreshPassBench,
  authorizerPassBench,
  corpPassBench,
  callbackCryptoBench,
  callbackPushBench,
  payCryptoBench,
  payNotifyBench,
  proxyStreamBench,
  coldStartBench,
];

/** `npm run bench -- token-route refresh-pass` runs only the named benches. */
function selected(argv: string[]): Bench[] {
  if (argv.length === 0) return BENCHES;
  const unknown = argv.filter((name) => !BENCHES.some((b) => b.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown bench ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`,
    );
  }
  return BENCHES.filter((b) => argv.includes(b.name));
}

async function main(): Promise<void> {
  const ctx: BenchContext = {
    warmupMs: envMs('BENCH_WARMUP_MS', 300),
    durationMs: envMs('BENCH_DURATION_MS', 1_500),
    log: (line) => console.log(`  ${line}`),
  };
  console.log(
    `wxhub bench: node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
      `warm-up ${ctx.warmupMs} ms + ${ctx.durationMs} ms per case ` +
      '(BENCH_WARMUP_MS, BENCH_DURATION_MS)',
  );

  const rows: BenchResult[] = [];
  for (const bench of selected(process.argv.slice(2))) {
    console.log(`\n[${bench.name}]`);
    const started = performance.now();
    try {
      rows.push(...(await bench.run(ctx)));
    } catch (e) {
      console.error(`  ${bench.name}: FAILED: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    }
    console.log(`  ${bench.name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  console.log('');
  printTable(rows);
  console.log(
    `\npeak RSS: ${formatMiB(peakRssBytes())} (sampled process.memoryUsage().rss); ` +
      `OS max RSS: ${formatMiB(process.resourceUsage().maxRSS * 1024)}`,
  );
}

await main();
