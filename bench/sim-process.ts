import { createSimulator } from '../dev/simulator/app';
import { createSimClock } from '../dev/simulator/clock';
import type { SimComponentConfig } from '../dev/simulator/component';
import { startSimulator } from '../dev/simulator/server';

/**
 * The simulator as a process of its own (started by `startSimProcess` in ./sim-child.ts), so the
 * hub's process holds only the hub: its peak RSS and CPU are the hub's. One message at a time.
 */
export type SimRequest =
  | { op: 'component'; cfg: SimComponentConfig }
  | { op: 'grant'; appId: string; authorizers: { appId: string; refreshToken: string }[] }
  | { op: 'advance'; ms: number }
  | { op: 'calls'; path: string }
  | { op: 'rss' };

const startMs = Number(process.argv[2] ?? Date.now());
const sim = createSimulator({ clock: createSimClock(startMs) });
const running = await startSimulator({ sim });

async function handle(m: SimRequest): Promise<unknown> {
  switch (m.op) {
    case 'component': {
      sim.registerComponent(m.cfg);
      const pushed = await sim.pushTicket(m.cfg.appId);
      return { ticket: pushed.ticket, createTime: pushed.createTime };
    }
    case 'grant':
      for (const a of m.authorizers) sim.grantAuthorizer(m.appId, a.appId, a.refreshToken);
      return {};
    case 'advance':
      sim.clock.advance(m.ms);
      return { now: sim.clock.now() };
    case 'calls':
      return { calls: sim.calls(m.path) };
    case 'rss':
      return { rss: process.memoryUsage().rss };
  }
}

process.on('message', (m: SimRequest) => {
  handle(m).then(
    (value) => process.send?.({ ok: true, value }),
    (err: unknown) =>
      process.send?.({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.send?.({ ready: true, url: running.url });
