import { bigserial, blob, index, ms, table, uniqueIndex, varchar } from './columns';

/**
 * Mini program codes of the two kinds that spend an app's lifetime quota (`getwxacode` and
 * `createwxaqrcode` share 100,000): one row per appid, kind and hash of the canonical parameters.
 * A row without `image` is a generation under way, held by `leaseOwner` until `leaseUntil`;
 * with `image`, it is the stored code every identical request is answered with.
 */
export const wxacodes = table(
  'wxacodes',
  {
    id: bigserial('id'),
    /** The WeChat appid: the quota is the account's, whatever the app is named in the hub. */
    appId: varchar('app_id', 64).notNull(),
    kind: varchar('kind', 16).notNull(),
    /** sha256 (hex) of the canonical parameters: WeChat's defaults filled in, keys sorted. */
    paramsHash: varchar('params_hash', 64).notNull(),
    leaseOwner: varchar('lease_owner', 128),
    leaseUntil: ms('lease_until'),
    contentType: varchar('content_type', 64),
    image: blob('image'),
    createdAt: ms('created_at').notNull(),
    generatedAt: ms('generated_at'),
  },
  [
    uniqueIndex('wxacodes_app_kind_params_unique', 'appId', 'kind', 'paramsHash'),
    index('wxacodes_app_generated_idx', 'appId', 'generatedAt'),
  ],
);
