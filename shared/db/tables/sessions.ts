import { bigserial, index, int, ms, table, text, uniqueIndex, varchar } from './columns';

/**
 * The session key of each Mini Program user, from their last `login`: one row per (app, openid),
 * replaced on each login. `session_key` is sealed (label `login_sessions.session_key:app/openid`);
 * it never leaves the hub.
 */
export const loginSessions = table(
  'login_sessions',
  {
    id: bigserial('id'),
    app: varchar('app', 64).notNull(),
    openid: varchar('openid', 128).notNull(),
    sessionKey: text('session_key').notNull(),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  [
    uniqueIndex('login_sessions_app_openid_unique', 'app', 'openid'),
    index('login_sessions_updated_at_idx', 'updatedAt'),
  ],
);

/**
 * The keys that sign the hub's session JWTs, one per generation: the unique `generation` makes
 * concurrent instances agree on one key per generation (the first insert wins). A key signs from
 * `signs_from` until `signs_until`; `private_key` is its JWK, sealed
 * (label `signing_keys.private_key:<kid>`), `public_jwk` what `/.well-known/jwks.json` publishes.
 */
export const signingKeys = table(
  'signing_keys',
  {
    id: bigserial('id'),
    generation: int('generation').notNull(),
    kid: varchar('kid', 64).notNull(),
    alg: varchar('alg', 16).notNull(),
    publicJwk: text('public_jwk').notNull(),
    privateKey: text('private_key').notNull(),
    signsFrom: ms('signs_from').notNull(),
    signsUntil: ms('signs_until').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  [
    uniqueIndex('signing_keys_generation_unique', 'generation'),
    uniqueIndex('signing_keys_kid_unique', 'kid'),
  ],
);
