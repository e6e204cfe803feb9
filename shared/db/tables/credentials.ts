import { bigserial, index, int, ms, table, text, uniqueIndex, varchar } from './columns';

/** One row per credential (owner + kind); `value` sealed. The lease columns elect one refresher. */
export const credentials = table(
  'credentials',
  {
    id: bigserial('id'),
    owner: varchar('owner', 191).notNull(),
    kind: varchar('kind', 48).notNull(),
    value: text('value'),
    expiresAt: ms('expires_at'),
    version: int('version').notNull().default(0),
    leaseOwner: varchar('lease_owner', 96),
    leaseUntil: ms('lease_until'),
    lastError: text('last_error'),
    lastErrorAt: ms('last_error_at'),
    failures: int('failures').notNull().default(0),
    nextAttemptAt: ms('next_attempt_at'),
    refreshedAt: ms('refreshed_at'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  [
    uniqueIndex('credentials_owner_kind_unique', 'owner', 'kind'),
    index('credentials_expires_at_idx', 'expiresAt'),
    // The pass lists credentials backing off (`next_attempt_at` ahead of now) by this range.
    index('credentials_next_attempt_at_idx', 'nextAttemptAt'),
  ],
);
