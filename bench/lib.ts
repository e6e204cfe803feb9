import { performance } from 'node:perf_hooks';

/** Timing settings shared by every benchmark of one run. */
export interface MeasureOptions {
  /** Time `fn` runs before counting starts (JIT, caches, connections). */
  warmupMs: number;
  /** Wall time the counted loop runs for. */
  durationMs: number;
}

export interface BenchContext extends MeasureOptions {
  /** Prints one progress or status line (e.g. "MySQL: skipped, ..."). */
  log(line: string): void;
}

/** What a row is compared against: the bare `SELECT 1` measured in the same run. */
export interface Baseline {
  name: string;
  opsPerSec: number;
}

export interface BenchResult {
  bench: string;
  target: string;
  opsPerSec: number;
  /** Absent on the baseline row itself. */
  baseline?: Baseline | undefined;
}

/** One benchmark module: `bench/run.ts` runs each in turn. */
export interface Bench {
  name: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

let peakRss = 0;

/** Samples `process.memoryUsage().rss` and keeps the highest value seen. */
export function sampleRss(): number {
  const { rss } = process.memoryUsage();
  if (rss > peakRss) peakRss = rss;
  return rss;
}

/** The highest RSS sampled so far (every {@link measure} samples at its end). */
export function peakRssBytes(): number {
  sampleRss();
  return peakRss;
}

/**
 * Runs `fn` sequentially (each call awaited before the next) for `warmupMs`, then counts calls
 * for `durationMs` of wall time; returns operations per second.
 */
export async function measure(
  fn: () => unknown | Promise<unknown>,
  opts: MeasureOptions,
): Promise<number> {
  const warmupEnd = performance.now() + opts.warmupMs;
  while (performance.now() < warmupEnd) await fn();

  let ops = 0;
  const start = performance.now();
  const end = start + opts.durationMs;
  let now = start;
  while (now < end) {
    await fn();
    ops += 1;
    now = performance.now();
  }
  sampleRss();
  return (ops * 1000) / (now - start);
}

export interface ConcurrentRate {
  /** Calls per second, all workers together. */
  attemptsPerSec: number;
  /** Calls that returned `true`, per second. */
  successesPerSec: number;
}

/**
 * Like {@link measure} with one sequential loop per worker, all running at once; each call
 * returns whether it succeeded.
 */
export async function measureConcurrent(
  workers: (() => Promise<boolean>)[],
  opts: MeasureOptions,
): Promise<ConcurrentRate> {
  let attempts = 0;
  let successes = 0;
  const warmupEnd = performance.now() + opts.warmupMs;
  const end = warmupEnd + opts.durationMs;

  // A call counts when it starts after the warm-up; the clock stops when the last loop ends.
  const loop = async (fn: () => Promise<boolean>): Promise<void> => {
    let now = performance.now();
    while (now < end) {
      const counted = now >= warmupEnd;
      const ok = await fn();
      if (counted) {
        attempts += 1;
        if (ok) successes += 1;
      }
      now = performance.now();
    }
  };
  await Promise.all(workers.map(loop));
  const seconds = (performance.now() - warmupEnd) / 1000;
  sampleRss();
  return { attemptsPerSec: attempts / seconds, successesPerSec: successes / seconds };
}

const opsFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatOps(opsPerSec: number): string {
  return opsFormat.format(Math.round(opsPerSec));
}

export function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * `ops / baseline ops` with two decimals; below 0.10 the inverse is added, since `0.00` alone
 * would hide the difference between 1/200 and 1/2000.
 */
export function ratioText(opsPerSec: number, baseline: Baseline): string {
  if (baseline.opsPerSec <= 0) return '-';
  const ratio = opsPerSec / baseline.opsPerSec;
  if (ratio >= 0.1 || ratio <= 0) return ratio.toFixed(2);
  return `${ratio.toFixed(2)} (1/${formatOps(1 / ratio)})`;
}

/** {@link ratioText} of a row; `-` for the baseline row itself. */
export function formatRatio(row: BenchResult): string {
  return row.baseline === undefined ? '-' : ratioText(row.opsPerSec, row.baseline);
}

/** Prints `bench | target | ops/s | ratio vs baseline | baseline` as an aligned table. */
export function printTable(rows: BenchResult[], out: (line: string) => void = console.log): void {
  const header = ['bench', 'target', 'ops/s', 'ratio vs baseline', 'baseline'];
  const rightAligned = [false, false, true, true, false];
  const cells = rows.map((r) => [
    r.bench,
    r.target,
    formatOps(r.opsPerSec),
    formatRatio(r),
    r.baseline === undefined ? '-' : `${r.baseline.name} (${formatOps(r.baseline.opsPerSec)}/s)`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => {
        const w = widths[i] ?? v.length;
        return rightAligned[i] ? v.padStart(w) : v.padEnd(w);
      })
      .join(' | ')
      .trimEnd();
  out(line(header));
  out(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const c of cells) out(line(c));
}

/** A positive integer from the environment, or `fallback` when unset or empty. */
export function envMs(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(
      `${name} must be a positive integer (milliseconds), got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** The middle value (upper middle for an even count); 0 for none. */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
}

/**
 * Two functions measured in short interleaved rounds (theirs first each round), medians of each:
 * one long run apiece would be at the mercy of the machine's drift.
 */
export async function interleavedMedians(
  ctx: MeasureOptions,
  theirFn: () => unknown,
  ourFn: () => unknown,
  rounds = 7,
): Promise<{ theirs: number; ours: number }> {
  const opts = {
    warmupMs: Math.min(ctx.warmupMs, 200),
    durationMs: Math.max(200, ctx.durationMs / 3),
  };
  const theirRuns: number[] = [];
  const ourRuns: number[] = [];
  for (let round = 0; round < rounds; round++) {
    theirRuns.push(await measure(theirFn, opts));
    ourRuns.push(await measure(ourFn, opts));
  }
  return { theirs: median(theirRuns), ours: median(ourRuns) };
}
