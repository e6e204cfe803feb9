import { bigserial, ms, table, uniqueIndex, varchar } from './columns';

/**
 * Alert conditions raised to `WXHUB_ALERT_WEBHOOK` and not yet cleared, one row per condition
 * (`key`, e.g. `credential:oa/access_token`): the row is what makes an alert go out once across
 * instances (whoever inserts it sends it) and clear once (whoever deletes it says so).
 */
export const alerts = table(
  'alerts',
  {
    id: bigserial('id'),
    key: varchar('key', 191).notNull(),
    raisedAt: ms('raised_at').notNull(),
  },
  [uniqueIndex('alerts_key_unique', 'key')],
);
