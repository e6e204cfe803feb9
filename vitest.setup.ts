import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { TEST_DATABASE_PREFIX } from './shared/store/testing';

/**
 * Runs once per `npm test`: says plainly which databases the contract suite covers, names the
 * run (each test file gets its own MySQL database, `wxhub_t_<run>_…`), and drops the run's
 * databases at the end.
 */
export function setup(): () => Promise<void> {
  const url = process.env.TEST_MYSQL_URL;
  const run = randomBytes(4).toString('hex');
  process.env.WXHUB_TEST_RUN = run;
  if (!process.env.TEST_MYSQL_PRIMARY_URL || !process.env.TEST_MYSQL_REPLICA_URL) {
    process.stdout.write(
      '\n[wxhub] TEST_MYSQL_PRIMARY_URL / TEST_MYSQL_REPLICA_URL are not set: the read-replica ' +
        'tests are NOT run (on CI they fail). Start a pair with `bash .ci/mariadb-replica.sh`.\n',
    );
  }
  if (url === undefined || url === '') {
    process.stdout.write(
      '\n[wxhub] TEST_MYSQL_URL is not set: the MySQL half of the suite is NOT run, only SQLite.\n' +
        '[wxhub] Start one with `bash .ci/mariadb.sh` and export TEST_MYSQL_URL to run it.\n\n',
    );
    return async () => undefined;
  }
  process.stdout.write(
    '\n[wxhub] contract suite runs on SQLite and on MySQL (TEST_MYSQL_URL), one database per test file.\n\n',
  );
  return async () => {
    const server = new URL(url);
    server.pathname = '/';
    const conn = await createConnection(server.toString());
    try {
      const [rows] = await conn.query('SHOW DATABASES');
      for (const row of rows as Record<string, string>[]) {
        const name = Object.values(row)[0] ?? '';
        if (name.startsWith(`${TEST_DATABASE_PREFIX}${run}_`)) {
          await conn.query(`DROP DATABASE \`${name}\``);
        }
      }
    } finally {
      await conn.end();
    }
  };
}
