import { bool, ms, serial, table, text, varchar } from './columns';

/** Apps from the apps file or the admin API. Secret columns hold SecretBox-sealed values. */
export const apps = table('apps', {
  id: serial('id'),
  name: varchar('name', 64).notNull().unique('apps_name_unique'),
  kind: varchar('kind', 16).notNull(),
  appId: varchar('app_id', 64).notNull(),
  appSecret: text('app_secret'),
  callbackToken: text('callback_token'),
  encodingAesKey: text('encoding_aes_key'),
  tokenMode: varchar('token_mode', 16).notNull(),
  /** `plain`, `compatible` or `safe` as configured; null takes the default (safe with an AES key). */
  messageMode: varchar('message_mode', 16),
  forward: text('forward').notNull(),
  /** A component's `authRedirectUrl`: where the browser goes after an authorization. */
  authRedirectUrl: text('auth_redirect_url'),
  /** An official account's `oauthRedirects` (JSON array); null when none is configured. */
  oauthRedirects: text('oauth_redirects'),
  /** An official account's `oauthComponent`: the component app its OAuth runs through. */
  oauthComponent: varchar('oauth_component', 64),
  /** A Fengniao app's `devId` (developer id of its merchant authorization page). */
  devId: varchar('dev_id', 64),
  /** A WeCom suite's `providerCorpId` (the service provider's own corpid). */
  providerCorpId: varchar('provider_corp_id', 64),
  source: varchar('source', 8).notNull(),
  enabled: bool('enabled').notNull(),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});
