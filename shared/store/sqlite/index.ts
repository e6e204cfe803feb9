import type { SecretBox } from '../../crypto/secret-box';
import type { SqliteHandle } from '../../db/client';
import { createCodec } from '../codec';
import type { Store } from '../types';
import { sqliteApps, sqliteMerchants } from './accounts';
import { sqliteCredentials } from './credentials';
import { sqliteMessages, sqliteOutbox, sqlitePayNotifications } from './events';

/** The {@link Store} over an embedded SQLite database. */
export function createSqliteStore(h: SqliteHandle, box: SecretBox): Store {
  const codec = createCodec(box);
  return {
    dialect: 'sqlite',
    apps: sqliteApps(h.db, codec),
    merchants: sqliteMerchants(h.db, codec),
    credentials: sqliteCredentials(h.db, codec),
    messages: sqliteMessages(h.db),
    payNotifications: sqlitePayNotifications(h.db),
    outbox: sqliteOutbox(h.db),
    async ping() {
      h.sqlite.prepare('SELECT 1').get();
    },
    close: () => h.close(),
  };
}
