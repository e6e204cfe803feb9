import { bigint, bigserial, bool, index, ms, serial, table, text, varchar } from './columns';

/**
 * Console users. `password_hash` is a self-describing scrypt string (`scrypt$N$r$p$salt$hash`,
 * shared/admin/password.ts); never a password.
 */
export const adminUsers = table('admin_users', {
  id: serial('id'),
  name: varchar('name', 64).notNull().unique('admin_users_name_unique'),
  passwordHash: varchar('password_hash', 255).notNull(),
  enabled: bool('enabled').notNull(),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/**
 * Console sessions, found by the SHA-256 (hex) of the random token in the `wxhub_session` cookie:
 * the token itself is never stored. Idle expiry is `last_seen_at` + the idle lifetime (written at
 * most once a minute), absolute expiry `expires_at`.
 */
export const adminSessions = table(
  'admin_sessions',
  {
    id: bigserial('id'),
    tokenHash: varchar('token_hash', 64).notNull().unique('admin_sessions_token_hash_unique'),
    userId: bigint('user_id').notNull(),
    csrfToken: varchar('csrf_token', 64).notNull(),
    createdAt: ms('created_at').notNull(),
    lastSeenAt: ms('last_seen_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  [index('admin_sessions_expires_idx', 'expiresAt')],
);

/** Failed logins, one row each, counted per user name (known or not) over the lockout window. */
export const adminLoginFailures = table(
  'admin_login_failures',
  {
    id: bigserial('id'),
    userName: varchar('user_name', 64).notNull(),
    at: ms('at').notNull(),
    ip: varchar('ip', 64),
  },
  [index('admin_login_failures_user_at_idx', 'userName', 'at')],
);

/**
 * What admins did: one row per write (`action` like `keys.create`, `target` like `key:3`).
 * `detail` is a JSON object of names, ids and changed field names; never a secret.
 */
export const adminAudit = table(
  'admin_audit',
  {
    id: bigserial('id'),
    at: ms('at').notNull(),
    actorId: bigint('actor_id'),
    actorName: varchar('actor_name', 64),
    action: varchar('action', 64).notNull(),
    target: varchar('target', 191),
    ip: varchar('ip', 64),
    detail: text('detail'),
  },
  [index('admin_audit_at_idx', 'at')],
);

/**
 * Bearer keys made in the console, beside `WXHUB_API_KEYS`: found by the SHA-256 (hex) of the
 * key; `prefix` is `wxk_...` and its last 4 characters, shown to recognise it.
 */
export const apiKeys = table('api_keys', {
  id: serial('id'),
  name: varchar('name', 64).notNull(),
  prefix: varchar('prefix', 16).notNull(),
  keyHash: varchar('key_hash', 64).notNull().unique('api_keys_key_hash_unique'),
  createdBy: varchar('created_by', 64).notNull(),
  createdAt: ms('created_at').notNull(),
  lastUsedAt: ms('last_used_at'),
  revokedAt: ms('revoked_at'),
});
