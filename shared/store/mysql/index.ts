import type { SecretBox } from '../../crypto/secret-box';
import type { MysqlHandle } from '../../db/client';
import { createCodec } from '../codec';
import type { Store } from '../types';
import { mysqlApps, mysqlMerchants } from './accounts';
import { mysqlCredentials } from './credentials';
import { mysqlMessages, mysqlOutbox, mysqlPayNotifications } from './events';

/** The {@link Store} over MySQL 5.7/8.0 or MariaDB ≥10.6. */
export function createMysqlStore(h: MysqlHandle, box: SecretBox): Store {
  const codec = createCodec(box);
  return {
    dialect: 'mysql',
    apps: mysqlApps(h.db, codec),
    merchants: mysqlMerchants(h.db, codec),
    credentials: mysqlCredentials(h.db, codec),
    messages: mysqlMessages(h.db),
    payNotifications: mysqlPayNotifications(h.db),
    outbox: mysqlOutbox(h.db),
    async ping() {
      await h.pool.query('SELECT 1');
    },
    close: () => h.close(),
  };
}
