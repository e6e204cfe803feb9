import { performance } from 'node:perf_hooks';
import { startSimulator } from '../dev/simulator';
import { AUTH, createTestHub, testApp } from '../functions/testing';
import { listen } from '../shared/platform/server';
import type { Bench, BenchContext, BenchResult } from './lib';
import { formatMiB, sampleRss } from './lib';
import { discardingLog, sqliteBenchTarget } from './setup';

const MiB = 1024 * 1024;

/**
 * One large JSON answer through `ANY /v1/proxy/…` over HTTP (hub and simulator in this process,
 * the simulator making its body lazily): bytes received are checked, and RSS is sampled while
 * the body flows. A buffering proxy grows by a multiple of the body; a streaming one stays flat.
 */
async function proxyStream(ctx: BenchContext): Promise<BenchResult[]> {
  const size = Number(process.env.BENCH_PROXY_MIB ?? 400) * MiB;
  const sim = await startSimulator();
  const { target, cleanup } = sqliteBenchTarget();
  const app = testApp({ tokenMode: 'classic' });
  const hub = await createTestHub(target, {
    sim,
    apps: [app],
    env: { WXHUB_PROXY_MAX_BYTES: String(size + MiB) },
  });
  const server = await listen(hub.app, 0, discardingLog(), '127.0.0.1');
  try {
    await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
    sim.sim.injectFault({ path: '/cgi-bin/getcallbackip', bodyBytes: size, chunked: true });
    const before = sampleRss();
    let peak = before;
    let received = 0;
    const started = performance.now();
    const res = await fetch(`${server.url}/v1/proxy/${app.name}/cgi-bin/getcallbackip`, {
      headers: AUTH,
    });
    const reader = res.body?.getReader();
    for (;;) {
      const r = await reader?.read();
      if (r === undefined || r.done) break;
      received += r.value.length;
      if (received % (16 * MiB) < r.value.length) peak = Math.max(peak, sampleRss());
    }
    const seconds = (performance.now() - started) / 1000;
    if (received !== size) throw new Error(`expected ${size} bytes, received ${received}`);
    ctx.log(
      `${formatMiB(size)} of JSON in ${seconds.toFixed(1)} s; RSS ${formatMiB(before)} -> peak ` +
        `${formatMiB(peak)} (+${formatMiB(peak - before)})`,
    );
    return [
      { bench: 'proxy stream (MiB per s)', target: 'sqlite', opsPerSec: size / MiB / seconds },
    ];
  } finally {
    await server.close(100);
    await hub.close();
    await sim.close();
    cleanup();
  }
}

export const proxyStreamBench: Bench = { name: 'proxy-stream', run: proxyStream };
