import { bigserial, index, ms, table, uniqueIndex, varchar } from './columns';

/**
 * Signatures of accepted pushes, kept while their timestamp is inside the accepted skew: a
 * signature seen again with another body is a replay (a plaintext `signature` does not cover
 * the body). `body_hash` is SHA-256 of the raw body, hex.
 */
export const callbackSignatures = table(
  'callback_signatures',
  {
    id: bigserial('id'),
    app: varchar('app', 64).notNull(),
    signature: varchar('signature', 64).notNull(),
    bodyHash: varchar('body_hash', 64).notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  [
    uniqueIndex('callback_signatures_app_signature_unique', 'app', 'signature'),
    index('callback_signatures_expires_at_idx', 'expiresAt'),
  ],
);
