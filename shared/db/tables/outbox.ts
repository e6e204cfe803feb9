import { bigint, bigserial, index, int, mediumtext, ms, table, text, varchar } from './columns';

/** Deliveries to the team's own services, drained with backoff; `dead` rows are kept. */
export const outbox = table(
  'outbox',
  {
    id: bigserial('id'),
    source: varchar('source', 16).notNull(),
    sourceId: bigint('source_id').notNull(),
    owner: varchar('owner', 64).notNull(),
    targetUrl: text('target_url').notNull(),
    idempotencyKey: varchar('idempotency_key', 191)
      .notNull()
      .unique('outbox_idempotency_key_unique'),
    payload: mediumtext('payload').notNull(),
    status: varchar('status', 12).notNull(),
    attempts: int('attempts').notNull().default(0),
    maxAttempts: int('max_attempts').notNull(),
    nextAttemptAt: ms('next_attempt_at').notNull(),
    lockedBy: varchar('locked_by', 96),
    lockedUntil: ms('locked_until'),
    lastError: text('last_error'),
    deliveredAt: ms('delivered_at'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  [
    index('outbox_status_next_attempt_idx', 'status', 'nextAttemptAt'),
    // A push's own deliveries, read right after it is stored (forSource): never a table scan.
    index('outbox_source_idx', 'source', 'sourceId'),
  ],
);
