import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../http/errors';

/** How long a statement may wait, in total, for another connection's write lock (default). */
export const DEFAULT_BUSY_BUDGET_MS = 5_000;

/** True for SQLite's "another connection holds the lock" errors, however the driver wraps them. */
export function isSqliteBusy(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Runs `work`, and while SQLite reports the database busy or locked, runs it again after an
 * asynchronous pause (2 ms doubling to 50 ms), so the event loop keeps serving meanwhile; after
 * `budgetMs` it gives up with a 503 `UNAVAILABLE`. `work` must be safe to repeat: a single
 * statement, a transaction (rolled back when it fails), or steps that are each idempotent.
 */
export async function retryWhileBusy<T>(work: () => Promise<T>, budgetMs: number): Promise<T> {
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!isSqliteBusy(err)) throw err;
      const left = budgetMs - (performance.now() - started);
      if (left <= 0) {
        throw new AppError(
          'UNAVAILABLE',
          `the database is locked by another writer (waited ${budgetMs} ms); retry shortly`,
        );
      }
      await sleep(Math.min(2 * 2 ** attempt, 50, left));
    }
  }
}

/**
 * `repo` with every method run through {@link retryWhileBusy}: the one place SQLite's lock waits
 * are made asynchronous, for every repository alike.
 */
export function retryingRepo<R extends object>(repo: R, budgetMs: number): R {
  const wrapped: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(repo)) {
    wrapped[name] =
      typeof member === 'function'
        ? (...args: unknown[]) =>
            retryWhileBusy(
              () => (member as (...a: unknown[]) => Promise<unknown>).apply(repo, args),
              budgetMs,
            )
        : member;
  }
  return wrapped as R;
}
