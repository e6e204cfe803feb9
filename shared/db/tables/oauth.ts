import { bigserial, bool, index, mediumtext, ms, table, text, varchar } from './columns';

/**
 * OAuth2 web authorizations under way (`GET /oauth/{app}/authorize` → WeChat → `…/callback`):
 * the `state` handed to WeChat (SHA-256, hex; the value itself is never stored), bound to the
 * app, scope and caller's redirect; single use (`used_at`), 10 minutes.
 */
export const oauthStates = table(
  'oauth_states',
  {
    id: bigserial('id'),
    stateHash: varchar('state_hash', 64).notNull().unique('oauth_states_state_hash_unique'),
    app: varchar('app', 64).notNull(),
    scope: varchar('scope', 32).notNull(),
    redirect: text('redirect').notNull(),
    expiresAt: ms('expires_at').notNull(),
    usedAt: ms('used_at'),
    createdAt: ms('created_at').notNull(),
  },
  [index('oauth_states_expires_at_idx', 'expiresAt')],
);

/**
 * `wxhub_ticket`s: what an OAuth callback learned about the user (openid, unionid, the userinfo
 * JSON, snapshot mode), redeemed once by the caller's backend (`POST /v1/oauth/tickets/redeem`).
 * The ticket is stored as its SHA-256 (hex); WeChat's OAuth access token is not kept at all.
 */
export const oauthTickets = table(
  'oauth_tickets',
  {
    id: bigserial('id'),
    ticketHash: varchar('ticket_hash', 64).notNull().unique('oauth_tickets_ticket_hash_unique'),
    app: varchar('app', 64).notNull(),
    openid: varchar('openid', 128).notNull(),
    unionid: varchar('unionid', 128),
    scope: varchar('scope', 32).notNull(),
    user: mediumtext('user'),
    snapshotUser: bool('snapshot_user').notNull(),
    expiresAt: ms('expires_at').notNull(),
    usedAt: ms('used_at'),
    createdAt: ms('created_at').notNull(),
  },
  [index('oauth_tickets_expires_at_idx', 'expiresAt')],
);
