import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Logger } from '../http/log';

export interface RunningServer {
  port: number;
  url: string;
  /** Stops accepting, drains in-flight requests (up to `drainMs`), then resolves. */
  close(drainMs?: number): Promise<void>;
}

/** Time limits of the Node server, so slow or idle clients cannot hold connections open. */
export interface ServerTimeouts {
  /** A request's head (line and headers) must arrive within this; 408 and closed otherwise. */
  headersMs: number;
  /** A whole request (head and body) must arrive within this. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
  /** How often Node checks connections against the first two limits. */
  checkIntervalMs: number;
}

/** The limits `listen` uses unless told otherwise (README, Deploy). */
export const SERVER_TIMEOUTS: ServerTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
  checkIntervalMs: 1_000,
};

/** Serves a Hono app (anything with `fetch`) on `port` (0 = any free port) with Node's HTTP server. */
export async function listen(
  app: { fetch: (request: Request, env?: unknown) => Response | Promise<Response> },
  port: number,
  log: Logger,
  hostname = '0.0.0.0',
  timeouts: Partial<ServerTimeouts> = {},
): Promise<RunningServer> {
  const t = { ...SERVER_TIMEOUTS, ...timeouts };
  return new Promise((resolve) => {
    const server = serve(
      {
        fetch: (req, env) => app.fetch(req, env),
        port,
        hostname,
        serverOptions: {
          headersTimeout: t.headersMs,
          requestTimeout: t.requestMs,
          keepAliveTimeout: t.keepAliveMs,
          connectionsCheckingInterval: t.checkIntervalMs,
        },
      },
      (info: AddressInfo) => {
        const url = `http://127.0.0.1:${info.port}`;
        log.info({ port: info.port }, 'listening');
        resolve({
          port: info.port,
          url,
          close: (drainMs = 10_000) =>
            new Promise<void>((done) => {
              const force = setTimeout(() => {
                if ('closeAllConnections' in server) server.closeAllConnections();
                done();
              }, drainMs);
              server.close(() => {
                clearTimeout(force);
                done();
              });
              if ('closeIdleConnections' in server) server.closeIdleConnections();
            }),
        });
      },
    );
  });
}
