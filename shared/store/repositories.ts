import { appsRepo, merchantsRepo } from './accounts';
import { adminRepo } from './admin';
import { authorizersRepo } from './authorizers';
import type { Codec } from './codec';
import { countersRepo } from './counters';
import { credentialsRepo } from './credentials';
import type { Db } from './dialect';
import { messagesRepo } from './messages';
import { oauthRepo } from './oauth';
import { outboxRepo } from './outbox';
import { payNotificationsRepo } from './pay-notifications';
import { loginSessionsRepo, signingKeysRepo } from './sessions';
import type { Store } from './types';
import { wxacodesRepo } from './wxacodes';

/**
 * Every repository of the {@link Store}, over one dialect's {@link Db}, each passed through `wrap`
 * (the SQLite store retries every method while another connection holds the write lock).
 */
export function repositories(
  db: Db,
  codec: Codec,
  wrap: <R extends object>(repo: R) => R = (repo) => repo,
): Omit<Store, 'dialect' | 'ping' | 'close'> {
  return {
    apps: wrap(appsRepo(db, codec)),
    merchants: wrap(merchantsRepo(db, codec)),
    credentials: wrap(credentialsRepo(db, codec)),
    messages: wrap(messagesRepo(db)),
    payNotifications: wrap(payNotificationsRepo(db)),
    outbox: wrap(outboxRepo(db)),
    authorizers: wrap(authorizersRepo(db)),
    admin: wrap(adminRepo(db)),
    counters: wrap(countersRepo(db)),
    oauth: wrap(oauthRepo(db)),
    wxacodes: wrap(wxacodesRepo(db)),
    loginSessions: wrap(loginSessionsRepo(db, codec)),
    signingKeys: wrap(signingKeysRepo(db, codec)),
  };
}
