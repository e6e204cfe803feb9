import { asc, eq } from 'drizzle-orm';
import type { Db } from './dialect';
import type { AlertsRepo } from './types';

/** Raised alert conditions: one row per key, inserted once, deleted once. */
export function alertsRepo(db: Db): AlertsRepo {
  const { alerts: a } = db.t;
  return {
    async raise(key, now) {
      return (await db.insertIgnore('alerts', { key, raisedAt: now })) !== undefined;
    },
    async list() {
      return db.select('alerts', undefined, {
        columns: ['key', 'raisedAt'],
        orderBy: asc(a.key),
        limit: 10_000,
      });
    },
    async clear(key) {
      return (await db.delete('alerts', eq(a.key, key))) > 0;
    },
  };
}
