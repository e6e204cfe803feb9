import { bigserial, index, ms, table, varchar } from './columns';

/**
 * The embedded database's replay memory: the same facts as `callback_signatures` (signatures of
 * accepted pushes while their timestamp is inside the accepted skew, with SHA-256 of the body
 * each came with), appended without a unique key. Looked up by signature, such a key puts every
 * push's entry on a random page of its index, which made up most of what a SQLite commit wrote
 * and halved the pushes it stored per second. The SQLite store keeps that key in the process
 * instead (shared/store/dialects/sqlite-replay.ts), exact across processes sharing the file. A
 * database server keeps using `callback_signatures`; it never writes this table.
 */
export const callbackSignatureLog = table(
  'callback_signature_log',
  {
    id: bigserial('id'),
    app: varchar('app', 64).notNull(),
    signature: varchar('signature', 64).notNull(),
    bodyHash: varchar('body_hash', 64).notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  [index('callback_signature_log_expires_at_idx', 'expiresAt')],
);
