import { and, asc, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db } from './dialect';
import { ALL_TIME_BUCKET, COUNTER_BUCKET_MS, type CountersRepo } from './types';

/**
 * Per-hour counters: one row per (name, label, hour), bumped with one upsert; with `total`, a
 * row per (name, label) in the all-time bucket ({@link ALL_TIME_BUCKET}) is bumped too.
 */
export function countersRepo(db: Db): CountersRepo {
  const { counters: c } = db.t;
  const bump = (on: Db, name: string, label: string, bucketStart: number) =>
    on.upsert(
      'counters',
      { name, label, bucketStart, count: 1 },
      { target: ['name', 'label', 'bucketStart'], set: { count: sql`${c.count} + 1` } },
    );
  return {
    async increment(name, label, now, opts) {
      const hour = now - (now % COUNTER_BUCKET_MS);
      if (opts?.total !== true) {
        await bump(db, name, label, hour);
        return;
      }
      // Both or neither: a caller that retries after a failure never counts the hour twice.
      await db.transaction(async (tx) => {
        await bump(tx, name, label, hour);
        await bump(tx, name, label, ALL_TIME_BUCKET);
      });
    },
    async probe() {
      await bump(db, 'health', 'write_probe', ALL_TIME_BUCKET);
    },
    async totals(name) {
      const rows = await db.select(
        'counters',
        and(eq(c.name, name), eq(c.bucketStart, ALL_TIME_BUCKET)),
        { columns: ['label', 'count'], orderBy: asc(c.label) },
      );
      return rows;
    },
    async list(name, from, to) {
      const rows = await db.select(
        'counters',
        and(eq(c.name, name), gte(c.bucketStart, from), lt(c.bucketStart, to)),
        { columns: ['label', 'bucketStart', 'count'], orderBy: asc(c.bucketStart) },
      );
      return rows;
    },
  };
}
