import type { Hono } from 'hono';
import { AppsFileError, ConfigError } from '../config';
import type { HubEnv } from '../http/app';
import { describe } from '../http/app';
import type { BootstrapOptions } from './bootstrap';
import { bootstrap, StartError } from './bootstrap';
import type { Deps } from './deps';
import { startScheduler } from './scheduler';
import { listen, type RunningServer } from './server';

export interface Hub {
  deps: Deps;
  server: RunningServer;
  /** Graceful stop: schedule, then requests drained, then the database closed. */
  stop(): Promise<void>;
}

export interface StartHubOptions extends BootstrapOptions {
  createApp: (deps: Deps) => Hono<HubEnv>;
  refresh: (deps: Deps) => Promise<unknown>;
  /** Run the refresh schedule in-process (default true). */
  schedule?: boolean;
  hostname?: string;
}

/** Boots and serves every function on one port with the in-process refresh schedule. */
export async function startHub(
  env: Record<string, string | undefined>,
  opts: StartHubOptions,
): Promise<Hub> {
  const deps = await bootstrap(env, opts);
  const server = await listen(opts.createApp(deps), deps.config.port, deps.log, opts.hostname);
  const scheduler =
    opts.schedule === false
      ? undefined
      : startScheduler({
          intervalMs: deps.config.refreshIntervalSeconds * 1000,
          run: () => opts.refresh(deps),
          log: deps.log,
        });
  let stopping: Promise<void> | undefined;
  return {
    deps,
    server,
    stop() {
      stopping ??= (async () => {
        await scheduler?.stop();
        await server.close();
        await deps.store.close();
        deps.log.info('stopped');
      })();
      return stopping;
    },
  };
}

/** Prints a start failure for the operator and returns the exit code. */
export function reportStartFailure(err: unknown): number {
  if (err instanceof ConfigError || err instanceof AppsFileError || err instanceof StartError) {
    process.stderr.write(`wxhub: ${err.message}\n`);
    return 1;
  }
  process.stderr.write(`wxhub: failed to start: ${describe(err).message}\n`);
  return 1;
}

/** Stops the hub on SIGTERM/SIGINT (CloudRun, SCF web functions, Ctrl-C) and exits. */
export function stopOnSignals(hub: Pick<Hub, 'stop'>): void {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`wxhub: ${signal} received, draining\n`);
    hub.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/** Installs signal handling, then logs the final start-up line (`serving`). */
export function serveUntilSignalled(hub: Hub): void {
  stopOnSignals(hub);
  hub.deps.log.info({ url: hub.server.url }, 'serving');
}
