import { and, type Column, desc, eq, gte, lt } from 'drizzle-orm';
import type { Db } from './dialect';

/** The tables the admin console searches: an id and the time each row was received. */
type Received = 'callbackMessages' | 'payNotifications';

/** What every admin search takes besides its own filters: a window, a keyset page and its size. */
export interface ReceivedPage {
  /** `received_at` ≥ from, < to (epoch ms). */
  from?: number | undefined;
  to?: number | undefined;
  /** Only ids below this (the last id of the page before). */
  before?: number | undefined;
  limit: number;
}

/**
 * Rows of `table` newest first (by id), at most `q.limit`, received in the window of `q`, below
 * `q.before` when given, and with each column of `equal` equal to its value when that is given.
 */
export function searchReceived<K extends Received>(
  db: Db,
  table: K,
  equal: readonly (readonly [Column, string | undefined])[],
  q: ReceivedPage,
) {
  const c = db.t[table];
  const where = and(
    ...equal.map(([column, value]) => (value === undefined ? undefined : eq(column, value))),
    q.from === undefined ? undefined : gte(c.receivedAt, q.from),
    q.to === undefined ? undefined : lt(c.receivedAt, q.to),
    q.before === undefined ? undefined : lt(c.id, q.before),
  );
  return db.select(table, where, { orderBy: desc(c.id), limit: q.limit });
}
