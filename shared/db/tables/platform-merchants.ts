import { bigserial, index, ms, table, uniqueIndex, varchar } from './columns';

/**
 * Merchants that authorized a delivery-platform app (`fengniao`, `shansong`): one row per (app,
 * merchant), `status` `authorized` or `revoked`. `merchant` is the key callers use in URLs: the
 * platform's merchant id for Fengniao, the merchant's name in wxhub (the OAuth `state`) for
 * Shansong. Never a token: access and refresh tokens stay sealed in `credentials`.
 */
export const platformMerchants = table(
  'platform_merchants',
  {
    id: bigserial('id'),
    app: varchar('app', 64).notNull(),
    platform: varchar('platform', 16).notNull(),
    merchant: varchar('merchant', 64).notNull(),
    status: varchar('status', 16).notNull(),
    authorizedAt: ms('authorized_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  [
    uniqueIndex('platform_merchants_app_merchant_unique', 'app', 'merchant'),
    index('platform_merchants_app_status_idx', 'app', 'status'),
  ],
);
