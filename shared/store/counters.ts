import { and, asc, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db } from './dialect';
import { COUNTER_BUCKET_MS, type CountersRepo } from './types';

/** Per-hour counters: one row per (name, label, hour), bumped with one upsert. */
export function countersRepo(db: Db): CountersRepo {
  const { counters: c } = db.t;
  return {
    async increment(name, label, now) {
      const bucketStart = now - (now % COUNTER_BUCKET_MS);
      await db.upsert(
        'counters',
        { name, label, bucketStart, count: 1 },
        { target: ['name', 'label', 'bucketStart'], set: { count: sql`${c.count} + 1` } },
      );
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
