import { bigserial, index, ms, table, text, uniqueIndex, varchar } from './columns';

/**
 * The authorizer directory of each third-party platform: one row per (component app, authorizer
 * appid), `status` `authorized` or `revoked`. `func_info` is a JSON array of the permission-set
 * ids granted. Never a token: those stay sealed in `credentials`.
 */
export const authorizers = table(
  'authorizers',
  {
    id: bigserial('id'),
    app: varchar('app', 64).notNull(),
    authorizerAppId: varchar('authorizer_appid', 64).notNull(),
    status: varchar('status', 16).notNull(),
    nickName: varchar('nick_name', 191),
    userName: varchar('user_name', 64),
    funcInfo: text('func_info').notNull(),
    authorizedAt: ms('authorized_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
    revokedAt: ms('revoked_at'),
  },
  [
    uniqueIndex('authorizers_app_appid_unique', 'app', 'authorizerAppId'),
    // Serves `WHERE app = ? AND status = ? ORDER BY authorizer_appid LIMIT … OFFSET …` and its count.
    index('authorizers_app_status_appid_idx', 'app', 'status', 'authorizerAppId'),
  ],
);
