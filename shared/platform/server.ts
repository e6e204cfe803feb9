import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Logger } from '../http/log';

export interface RunningServer {
  port: number;
  url: string;
  /** Stops accepting, drains in-flight requests (up to `drainMs`), then resolves. */
  close(drainMs?: number): Promise<void>;
}

/** Serves a Hono app (anything with `fetch`) on `port` (0 = any free port) with Node's HTTP server. */
export async function listen(
  app: { fetch: (request: Request, env?: unknown) => Response | Promise<Response> },
  port: number,
  log: Logger,
  hostname = '0.0.0.0',
): Promise<RunningServer> {
  return new Promise((resolve) => {
    const server = serve(
      { fetch: (req, env) => app.fetch(req, env), port, hostname },
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
