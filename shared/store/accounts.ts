import { asc, eq } from 'drizzle-orm';
import type { Codec } from './codec';
import type { Db } from './dialect';
import type { AppsRepo, MerchantsRepo } from './types';

/** Apps: one row per name, upserted from the apps file or the admin API. */
export function appsRepo(db: Db, codec: Codec): AppsRepo {
  const { apps } = db.t;
  return {
    async upsert(app, source, now) {
      const row = codec.appRow(app, source, now);
      const { createdAt: _created, name: _name, ...set } = row;
      await db.upsert('apps', row, { target: ['name'], set });
    },
    async create(app, source, now) {
      return (await db.insertIgnore('apps', codec.appRow(app, source, now))) !== undefined;
    },
    async get(name) {
      const row = await db.first('apps', eq(apps.name, name));
      return row === undefined ? undefined : codec.app(row);
    },
    async list(filter = {}) {
      const where = filter.enabled === undefined ? undefined : eq(apps.enabled, filter.enabled);
      const rows = await db.select('apps', where, { orderBy: asc(apps.name) });
      return rows.map(codec.app);
    },
  };
}

/** WeChat Pay merchants: one row per name. */
export function merchantsRepo(db: Db, codec: Codec): MerchantsRepo {
  const { merchants } = db.t;
  return {
    async upsert(m, source, now) {
      const row = codec.merchantRow(m, source, now);
      const { createdAt: _created, name: _name, ...set } = row;
      await db.upsert('merchants', row, { target: ['name'], set });
    },
    async create(m, source, now) {
      return (await db.insertIgnore('merchants', codec.merchantRow(m, source, now))) !== undefined;
    },
    async get(name) {
      const row = await db.first('merchants', eq(merchants.name, name));
      return row === undefined ? undefined : codec.merchant(row);
    },
    async list(filter = {}) {
      const where =
        filter.enabled === undefined ? undefined : eq(merchants.enabled, filter.enabled);
      const rows = await db.select('merchants', where, { orderBy: asc(merchants.name) });
      return rows.map(codec.merchant);
    },
  };
}
