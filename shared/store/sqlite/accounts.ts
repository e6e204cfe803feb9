import { eq } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { apps, merchants } from '../../db/schema/sqlite';
import type { Codec } from '../codec';
import type { AppsRepo, MerchantsRepo } from '../types';

/** Apps on SQLite. */
export function sqliteApps(db: BetterSQLite3Database, codec: Codec): AppsRepo {
  return {
    async upsert(app, source, now) {
      const row = codec.appRow(app, source, now);
      const { createdAt: _created, name: _name, ...update } = row;
      db.insert(apps).values(row).onConflictDoUpdate({ target: apps.name, set: update }).run();
    },
    async get(name) {
      const row = db.select().from(apps).where(eq(apps.name, name)).get();
      return row === undefined ? undefined : codec.app(row);
    },
    async list(filter = {}) {
      const where = filter.enabled === undefined ? undefined : eq(apps.enabled, filter.enabled);
      return db.select().from(apps).where(where).orderBy(apps.name).all().map(codec.app);
    },
  };
}

/** Merchants on SQLite. */
export function sqliteMerchants(db: BetterSQLite3Database, codec: Codec): MerchantsRepo {
  return {
    async upsert(m, source, now) {
      const row = codec.merchantRow(m, source, now);
      const { createdAt: _created, name: _name, ...update } = row;
      db.insert(merchants)
        .values(row)
        .onConflictDoUpdate({ target: merchants.name, set: update })
        .run();
    },
    async get(name) {
      const row = db.select().from(merchants).where(eq(merchants.name, name)).get();
      return row === undefined ? undefined : codec.merchant(row);
    },
    async list(filter = {}) {
      const where =
        filter.enabled === undefined ? undefined : eq(merchants.enabled, filter.enabled);
      return db
        .select()
        .from(merchants)
        .where(where)
        .orderBy(merchants.name)
        .all()
        .map(codec.merchant);
    },
  };
}
