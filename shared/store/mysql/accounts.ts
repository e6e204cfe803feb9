import { eq } from 'drizzle-orm';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import { apps, merchants } from '../../db/schema/mysql';
import type { Codec } from '../codec';
import type { AppsRepo, MerchantsRepo } from '../types';

/** Apps on MySQL/MariaDB. */
export function mysqlApps(db: MySql2Database, codec: Codec): AppsRepo {
  return {
    async upsert(app, source, now) {
      const row = codec.appRow(app, source, now);
      const { createdAt: _created, name: _name, ...update } = row;
      await db.insert(apps).values(row).onDuplicateKeyUpdate({ set: update });
    },
    async get(name) {
      const [row] = await db.select().from(apps).where(eq(apps.name, name));
      return row === undefined ? undefined : codec.app(row);
    },
    async list(filter = {}) {
      const where = filter.enabled === undefined ? undefined : eq(apps.enabled, filter.enabled);
      const rows = await db.select().from(apps).where(where).orderBy(apps.name);
      return rows.map(codec.app);
    },
  };
}

/** Merchants on MySQL/MariaDB. */
export function mysqlMerchants(db: MySql2Database, codec: Codec): MerchantsRepo {
  return {
    async upsert(m, source, now) {
      const row = codec.merchantRow(m, source, now);
      const { createdAt: _created, name: _name, ...update } = row;
      await db.insert(merchants).values(row).onDuplicateKeyUpdate({ set: update });
    },
    async get(name) {
      const [row] = await db.select().from(merchants).where(eq(merchants.name, name));
      return row === undefined ? undefined : codec.merchant(row);
    },
    async list(filter = {}) {
      const where =
        filter.enabled === undefined ? undefined : eq(merchants.enabled, filter.enabled);
      const rows = await db.select().from(merchants).where(where).orderBy(merchants.name);
      return rows.map(codec.merchant);
    },
  };
}
