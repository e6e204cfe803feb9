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
export type HubRequest = { op: 'pass'; now: number } | { op: 'memory' };

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
  const repo = store[key];
  (store as Record<K, Store[K]>)[key] = new Proxy(repo, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          storeMs += performance.now() - started;
          storeCalls += 1;
        }
      };
    },
  });
}
// The token manager and registries read these properties at each call.
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

async function handle(m: HubRequest): Promise<unknown> {
  switch (m.op) {
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
