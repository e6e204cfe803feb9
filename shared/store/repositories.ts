import { appsRepo, merchantsRepo } from './accounts';
import type { Codec } from './codec';
import { credentialsRepo } from './credentials';
import type { Db } from './dialect';
import { messagesRepo } from './messages';
import { outboxRepo } from './outbox';
import { payNotificationsRepo } from './pay-notifications';
import type { Store } from './types';

/** Every repository of the {@link Store}, over one dialect's {@link Db}. */
export function repositories(db: Db, codec: Codec): Omit<Store, 'dialect' | 'ping' | 'close'> {
  return {
    apps: appsRepo(db, codec),
    merchants: merchantsRepo(db, codec),
    credentials: credentialsRepo(db, codec),
    messages: messagesRepo(db),
    payNotifications: payNotificationsRepo(db),
    outbox: outboxRepo(db),
  };
}
