import { bigserial, index, int, ms, table, uniqueIndex, varchar } from './columns';

/**
 * SMS verification codes sent (`POST /v1/sms/{name}/codes`): one row per send, also the log the
 * per-phone limits count (rows are kept a day). Neither the phone number nor the code is stored:
 * `phoneHash` is SHA-256 (hex) of the sender and the phone, `codeHash` SHA-256 of the code bound
 * to its sender, phone and scene. A code verifies once (`usedAt`), at most 5 wrong tries
 * (`failures`), until `expiresAt`.
 */
export const smsCodes = table(
  'sms_codes',
  {
    id: bigserial('id'),
    sender: varchar('sender', 64).notNull(),
    phoneHash: varchar('phone_hash', 64).notNull(),
    scene: varchar('scene', 32).notNull(),
    codeHash: varchar('code_hash', 64).notNull(),
    /** `sending`, `sent`, `failed` (Aliyun refused: never verifies), `unknown` (timed out). */
    status: varchar('status', 16).notNull(),
    failures: int('failures').notNull().default(0),
    expiresAt: ms('expires_at').notNull(),
    usedAt: ms('used_at'),
    createdAt: ms('created_at').notNull(),
  },
  [
    index('sms_codes_sender_phone_created_idx', 'sender', 'phoneHash', 'createdAt'),
    index('sms_codes_created_idx', 'createdAt'),
  ],
);

/**
 * One row per (sender, phone hash): a short lease taken around a send's limit check and insert,
 * so the limits hold however many instances send to that phone at once.
 */
export const smsLocks = table(
  'sms_locks',
  {
    id: bigserial('id'),
    sender: varchar('sender', 64).notNull(),
    phoneHash: varchar('phone_hash', 64).notNull(),
    leaseOwner: varchar('lease_owner', 128),
    leaseUntil: ms('lease_until'),
  },
  [uniqueIndex('sms_locks_sender_phone_unique', 'sender', 'phoneHash')],
);
