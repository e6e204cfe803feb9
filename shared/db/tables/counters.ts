import { bigint, bigserial, index, ms, table, uniqueIndex, varchar } from './columns';

/**
 * Durable event counters per hour: `name` (e.g. `refresh`), a low-cardinality `label` (`ok`,
 * `error`), the start of the hour (epoch ms) and how many. Incremented with one upsert; the
 * console's dashboard reads the last 24 buckets.
 */
export const counters = table(
  'counters',
  {
    id: bigserial('id'),
    name: varchar('name', 48).notNull(),
    label: varchar('label', 48).notNull(),
    bucketStart: ms('bucket_start').notNull(),
    count: bigint('count').notNull(),
  },
  [
    uniqueIndex('counters_name_label_bucket_unique', 'name', 'label', 'bucketStart'),
    index('counters_bucket_start_idx', 'bucketStart'),
  ],
);
