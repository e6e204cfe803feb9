import { appsRepo, merchantsRepo } from './accounts';
import { adminRepo } from './admin';
import { alertsRepo } from './alerts';
import { authorizersRepo } from './authorizers';
import type { Codec } from './codec';
import { countersRepo } from './counters';
import { credentialsRepo } from './credentials';
import type { Db } from './dialect';
import { messagesRepo, type SignatureMemory } from './messages';
import { oauthRepo } from './oauth';
import { outboxRepo } from './outbox';
import { payNotificationsRepo } from './pay-notifications';
import { platformMerchantsRepo } from './platform-merchants';
import { loginSessionsRepo, signingKeysRepo } from './sessions';
import { smsRepo } from './sms';
import type { Store } from './types';
import { wxacodesRepo } from './wxacodes';

export type Repositories = Omit<Store, 'dialect' | 'ping' | 'probeWrite' | 'close' | 'reader'>;

/**
 * Every repository of the {@link Store}, over one dialect's {@link Db}, each passed through `wrap`
 * (the SQLite store retries every method while another connection holds the write lock). Each is
 * made on its first use (a getter that keeps it): a cold start makes only the repositories its
 * first request uses, and builds only their tables (see the SQLite adapter). Spreading the
 * object makes them all.
 */
export function repositories(
  db: Db,
  codec: Codec,
  wrap: <R extends object>(repo: R) => R = (repo) => repo,
  /** The messages' signature memory, when not the database's unique key (SQLite's). */
  signatureMemory?: () => SignatureMemory,
): Repositories {
  return lazily<Repositories>({
    apps: () => wrap(appsRepo(db, codec)),
    merchants: () => wrap(merchantsRepo(db, codec)),
    credentials: () => wrap(credentialsRepo(db, codec)),
    messages: () => wrap(messagesRepo(db, signatureMemory?.())),
    payNotifications: () => wrap(payNotificationsRepo(db)),
    outbox: () => wrap(outboxRepo(db)),
    authorizers: () => wrap(authorizersRepo(db)),
    admin: () => wrap(adminRepo(db)),
    counters: () => wrap(countersRepo(db)),
    alerts: () => wrap(alertsRepo(db)),
    oauth: () => wrap(oauthRepo(db)),
    wxacodes: () => wrap(wxacodesRepo(db)),
    platformMerchants: () => wrap(platformMerchantsRepo(db)),
    loginSessions: () => wrap(loginSessionsRepo(db, codec)),
    signingKeys: () => wrap(signingKeysRepo(db, codec)),
    sms: () => wrap(smsRepo(db)),
  });
}

/** An object whose every property is made by its function on first read, then kept. */
function lazily<T extends object>(make: { [K in keyof T]: () => T[K] }): T {
  const out = {};
  for (const key of Object.keys(make) as (keyof T & string)[]) {
    let made: { value: T[typeof key] } | undefined;
    Object.defineProperty(out, key, {
      enumerable: true,
      get: () => {
        made ??= { value: make[key]() };
        return made.value;
      },
    });
  }
  // The one cast: defineProperty cannot type the object it fills; every key of T is defined.
  return out as T;
}
