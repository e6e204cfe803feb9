import { describe } from '../http/app';
import type { Logger } from '../http/log';

export interface Scheduler {
  /** Stops the schedule and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every `intervalMs` in-process (the CloudRun image and the local server), starting
 * after `firstDelayMs`. Passes never overlap; a failing pass is logged and the next one runs.
 */
export function startScheduler(opts: {
  intervalMs: number;
  firstDelayMs?: number;
  run: () => Promise<unknown>;
  log: Logger;
}): Scheduler {
  let stopped = false;
  let current: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const tick = () => {
    if (stopped) return;
    current = opts
      .run()
      .catch((err: unknown) => opts.log.error({ err: describe(err) }, 'scheduled refresh failed'))
      .finally(() => {
        current = undefined;
        if (!stopped) timer = setTimeout(tick, opts.intervalMs);
      });
  };
  timer = setTimeout(tick, opts.firstDelayMs ?? 1_000);

  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await current;
    },
  };
}
