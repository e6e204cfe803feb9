import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Simulator } from './app';
import { createSimulator } from './app';

/** Options of {@link startSimulator}. */
export interface StartSimulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  hostname?: string;
  /** Simulator to serve; a fresh one by default. */
  sim?: Simulator;
  /**
   * How often (real ms) to check for due ticket pushes (`sim.pushDueTickets`: components with an
   * `eventUrl`, every 10 minutes of simulator time). Off by default; `npm run dev`-style use only.
   */
  ticketTimerMs?: number;
}

/** A simulator listening on a real HTTP port. */
export interface RunningSimulator {
  /** Base URL to use as WECHAT_API_BASE, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  port: number;
  sim: Simulator;
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

/** Serve a simulator over HTTP with @hono/node-server. */
export function startSimulator(opts: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = opts.sim ?? createSimulator();
  const hostname = opts.hostname ?? '127.0.0.1';
  const timer =
    opts.ticketTimerMs === undefined
      ? undefined
      : setInterval(() => void sim.pushDueTickets(), opts.ticketTimerMs);
  timer?.unref();
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: sim.app.fetch, port: opts.port ?? 0, hostname },
      (info: AddressInfo) => {
        const host = hostname.includes(':') ? `[${hostname}]` : hostname;
        resolve({
          url: `http://${host}:${info.port}`,
          port: info.port,
          sim,
          close: () =>
            new Promise<void>((done, fail) => {
              clearInterval(timer);
              server.close((err) => (err ? fail(err) : done()));
              if ('closeAllConnections' in server) server.closeAllConnections();
            }),
        });
      },
    );
    server.once('error', reject);
  });
}
