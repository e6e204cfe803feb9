import { and, asc, eq } from 'drizzle-orm';
import type { Db, Row } from './dialect';

/** A merchant that authorized a delivery-platform app (tokens are in `credentials`). */
export interface PlatformMerchantRecord {
  /** The app's name in wxhub. */
  app: string;
  /** `fengniao` or `shansong`. */
  platform: string;
  /** Fengniao: the platform's merchant id; Shansong: the merchant's name in wxhub. */
  merchant: string;
  status: 'authorized' | 'revoked';
  authorizedAt: number;
  updatedAt: number;
}

/**
 * The merchant-authorization directory of the delivery platforms (one table for Fengniao and
 * Shansong, shared/db/tables/platform-merchants.ts).
 */
export interface PlatformMerchantsRepo {
  /** Marks (app, merchant) authorized at `now`, inserting it when new. */
  markAuthorized(app: string, platform: string, merchant: string, now: number): Promise<void>;
  /** Marks (app, merchant) revoked (nothing happens for an unknown one). */
  markRevoked(app: string, merchant: string, now: number): Promise<void>;
  get(app: string, merchant: string): Promise<PlatformMerchantRecord | undefined>;
  /** The app's merchants by merchant key, at most `limit`. */
  list(app: string, limit: number): Promise<PlatformMerchantRecord[]>;
}

/** The delivery platforms' merchant directory. */
export function platformMerchantsRepo(db: Db): PlatformMerchantsRepo {
  const { platformMerchants: m } = db.t;
  const byKey = (app: string, merchant: string) => and(eq(m.app, app), eq(m.merchant, merchant));
  return {
    async markAuthorized(app, platform, merchant, now) {
      const set = { status: 'authorized', authorizedAt: now, updatedAt: now };
      await db.upsert(
        'platformMerchants',
        { app, platform, merchant, ...set },
        { target: ['app', 'merchant'], set },
      );
    },
    async markRevoked(app, merchant, now) {
      await db.update(
        'platformMerchants',
        { status: 'revoked', updatedAt: now },
        byKey(app, merchant),
      );
    },
    async get(app, merchant) {
      const row = await db.first('platformMerchants', byKey(app, merchant));
      return row === undefined ? undefined : record(row);
    },
    async list(app, limit) {
      const rows = await db.select('platformMerchants', eq(m.app, app), {
        orderBy: asc(m.merchant),
        limit,
      });
      return rows.map(record);
    },
  };
}

function record(row: Row<'platformMerchants'>): PlatformMerchantRecord {
  return {
    app: row.app,
    platform: row.platform,
    merchant: row.merchant,
    status: row.status === 'revoked' ? 'revoked' : 'authorized',
    authorizedAt: row.authorizedAt,
    updatedAt: row.updatedAt,
  };
}
