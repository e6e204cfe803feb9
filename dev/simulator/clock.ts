/** A controllable clock used by the simulator for every expiry decision. */
export interface SimClock {
  /** Current simulated time, epoch milliseconds. */
  now(): number;
  /** Move the clock forward (or backward with a negative value) by `ms`. */
  advance(ms: number): void;
  /** Jump to an absolute epoch-ms instant. */
  set(ms: number): void;
}

/**
 * Create a manual clock. It never moves on its own: only `advance` and `set` change it.
 * @param startMs initial epoch ms; defaults to `Date.now()` at creation.
 */
export function createSimClock(startMs: number = Date.now()): SimClock {
  let current = startMs;
  return {
    now: () => current,
    advance(ms: number): void {
      if (!Number.isFinite(ms)) throw new RangeError('advance(ms) needs a finite number');
      current += ms;
    },
    set(ms: number): void {
      if (!Number.isFinite(ms)) throw new RangeError('set(ms) needs a finite number');
      current = ms;
    },
  };
}

/**
 * A clock that follows real time (`source`, `Date.now` by default), moved by `advance` and `set`
 * relative to it: for `npm run dev`, where the hub runs on the real clock and a pay notification's
 * timestamp must stay within its 5 minutes however long the demo has been running.
 */
export function createLiveSimClock(source: () => number = Date.now): SimClock {
  let offset = 0;
  return {
    now: () => source() + offset,
    advance(ms: number): void {
      if (!Number.isFinite(ms)) throw new RangeError('advance(ms) needs a finite number');
      offset += ms;
    },
    set(ms: number): void {
      if (!Number.isFinite(ms)) throw new RangeError('set(ms) needs a finite number');
      offset = ms - source();
    },
  };
}
