// Every table, declared once. Each schema file (`../schema/mysql.ts`, `../schema/sqlite.ts`)
// builds its dialect's Drizzle table from each of these and exports it under the same name.
export { adminAudit, adminLoginFailures, adminSessions, adminUsers, apiKeys } from './admin';
export { alerts } from './alerts';
export { apps } from './apps';
export { authorizers } from './authorizers';
export { callbackMessages } from './callback-messages';
export { callbackSignatureLog } from './callback-signature-log';
export { callbackSignatures } from './callback-signatures';
export { counters } from './counters';
export { credentials } from './credentials';
export { merchants } from './merchants';
export { oauthStates, oauthTickets } from './oauth';
export { outbox } from './outbox';
export { payNotifications } from './pay-notifications';
export { platformMerchants } from './platform-merchants';
export { loginSessions, signingKeys } from './sessions';
export { smsCodes, smsLocks } from './sms';
export { wxacodes } from './wxacodes';
