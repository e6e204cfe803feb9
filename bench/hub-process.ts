import type { HeapProfiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { createHubApp, refreshNow } from '../functions/index';
import { startHub } from '../shared/platform/main';
import type { Store } from '../shared/store';

/**
 * The hub as `npm start` runs it (functions/server.ts: every function served on a port, the same
 * bootstrap), bundled like dist/server.mjs and run under plain `node` by `startHubProcess`
 * (./hub-child.ts), so its RSS is what production's is. Two differences: the clock is the bench's
 * (each message carries `now`), and the refresh pass runs when a message asks for it instead of on
 * the in-process schedule. One message at a time.
 */
export type HubRequest = { op: 'pass'; now: number } | { op: 'memory' } | { op: 'allocations' };

/** Where the hub allocated (collected objects included) since start: MiB and call site. */
export interface HubAllocations {
  totalMiB: number;
  /** Bytes allocated by the function itself. */
  self: { mib: number; site: string }[];
  /** Bytes allocated by the function and what it called. */
  inclusive: { mib: number; site: string }[];
}

export interface HubMemory {
  rss: number;
  /** The kernel's high-water mark of this process's RSS so far (bytes). */
  maxRss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** V8's heap spaces with at least 1 MiB: name, size, used (bytes). */
  spaces: { name: string; size: number; used: number }[];
}

export interface HubPassResult {
  wallMs: number;
  cpuMs: number;
  storeMs: number;
  storeCalls: number;
  refreshed: number;
  failed: number;
  memory: HubMemory;
}

let now = Number(process.argv[2] ?? Date.now());
const clock = { now: () => now };

const hub = await startHub(
  { ...process.env, PORT: '0', LOG_LEVEL: 'silent' },
  { createApp: createHubApp, refresh: refreshNow, schedule: false, clock, hostname: '127.0.0.1' },
);

/** Store calls timed (their latencies summed: concurrent calls overlap) and counted. */
let storeMs = 0;
let storeCalls = 0;
function timeRepo<K extends 'credentials' | 'apps' | 'merchants'>(store: Store, key: K): void {
  // The store's repositories may be getters (SQLite's: made on first use, not replaceable):
  // their methods are wrapped in place, which every holder of the store sees.
  const repo = store[key] as unknown as Record<string, unknown>;
  for (const [prop, v] of Object.entries(repo)) {
    if (typeof v !== 'function') continue;
    repo[prop] = async (...args: unknown[]) => {
      const started = performance.now();
      try {
        return await (v as (...a: unknown[]) => Promise<unknown>).apply(repo, args);
      } finally {
        storeMs += performance.now() - started;
        storeCalls += 1;
      }
    };
  }
}
// The token manager and registries call these repositories' methods too.
for (const key of ['credentials', 'apps', 'merchants'] as const) timeRepo(hub.deps.store, key);

function memory(): HubMemory {
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    maxRss: process.resourceUsage().maxRSS * 1024,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    spaces: getHeapSpaceStatistics()
      .filter((x) => x.space_size >= 1 << 20)
      .map((x) => ({ name: x.space_name, size: x.space_size, used: x.space_used_size })),
  };
}

/**
 * With BENCH_HUB_ALLOC_PROFILE=1, V8's sampling heap profiler runs from start and counts every
 * allocation, also those collected since (garbage is what makes V8 grow its heap in a pass).
 */
const session = process.env.BENCH_HUB_ALLOC_PROFILE === '1' ? new Session() : undefined;
if (session !== undefined) {
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}

async function allocations(top = 30): Promise<HubAllocations | undefined> {
  if (session === undefined) return undefined;
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const siteOf = ({ callFrame: f }: HeapProfiler.SamplingHeapProfileNode) =>
    `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '')}:${f.lineNumber + 1}`;
  const walk = (n: HeapProfiler.SamplingHeapProfileNode, above: ReadonlySet<string>): number => {
    const site = siteOf(n);
    self.set(site, (self.get(site) ?? 0) + n.selfSize);
    const below = new Set(above).add(site);
    let total = n.selfSize;
    for (const c of n.children) total += walk(c, below);
    if (!above.has(site)) inclusive.set(site, (inclusive.get(site) ?? 0) + total);
    return total;
  };
  const MiB = 1024 * 1024;
  const total = walk(profile.head, new Set());
  const largest = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([site, bytes]) => ({ mib: bytes / MiB, site }));
  return { totalMiB: total / MiB, self: largest(self), inclusive: largest(inclusive) };
}

async function handle(m: HubRequest): Promise<unknown> {
  switch (m.op) {
    case 'allocations':
      return (await allocations()) ?? null;
    case 'memory':
      return memory();
    case 'pass': {
      now = m.now;
      storeMs = 0;
      storeCalls = 0;
      const cpu = process.cpuUsage();
      const t = performance.now();
      const r = await refreshNow(hub.deps);
      const wallMs = performance.now() - t;
      const used = process.cpuUsage(cpu);
      const result: HubPassResult = {
        wallMs,
        cpuMs: (used.user + used.system) / 1000,
        storeMs,
        storeCalls,
        refreshed: r.refreshed,
        failed: r.failed.length,
        memory: memory(),
      };
      return result;
    }
  }
}

process.on('message', (m: HubRequest) => {
  handle(m).then(
    (value) => process.send?.({ ok: true, value }),
    (err: unknown) =>
      process.send?.({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => {
  hub.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
process.send?.({ ready: true, url: hub.server.url });
