import { connect, createServer, type Server, type Socket } from 'node:net';
import { type Connection, createConnection } from 'mysql2/promise';
import type { TestTarget } from './testing';
import { TEST_DATABASE_PREFIX } from './testing';

/**
 * Test support for the read replica (`DATABASE_READ_URL`): a primary and a replica that really
 * replicate (`.ci/mariadb-replica.sh`, which CI runs: `TEST_MYSQL_PRIMARY_URL` and
 * `TEST_MYSQL_REPLICA_URL`).
 */
export interface ReplicationPair {
  primary: string;
  replica: string;
}

/**
 * The pair from the environment; undefined when it is not set, except on CI (`CI=true`), where
 * the replica's tests must run: there it throws, so the suite fails instead of skipping them.
 */
export function replicationPair(): ReplicationPair | undefined {
  const primary = process.env.TEST_MYSQL_PRIMARY_URL ?? '';
  const replica = process.env.TEST_MYSQL_REPLICA_URL ?? '';
  if (primary !== '' && replica !== '') return { primary, replica };
  if (process.env.CI === 'true') {
    throw new Error(
      'CI=true but TEST_MYSQL_PRIMARY_URL / TEST_MYSQL_REPLICA_URL are not set: .ci/run starts ' +
        'the pair with .ci/mariadb-replica.sh; the read-replica tests must not be skipped on CI',
    );
  }
  return undefined;
}

/** A database of one test file on the pair, and what the tests look at on the replica. */
export interface ReplicatedDatabase {
  /** MySQL on the primary, `readUrl` on the replica as a user that may only SELECT. */
  target: TestTarget;
  /** {@link target} with the replica reached on another local port, e.g. a {@link Relay}'s. */
  targetVia(port: number): TestTarget;
  /** Waits until the replica has applied everything the primary has written so far. */
  caughtUp(): Promise<void>;
  /**
   * SELECT statements the reader's user has run on the replica (MariaDB's USER_STATISTICS), read
   * once none of its statements is still running or being counted.
   */
  replicaSelects(): Promise<number>;
  /** Stops the replica applying what it receives (its lag then grows with every write)… */
  pauseApplying(): Promise<void>;
  /** …and starts it again. */
  resumeApplying(): Promise<void>;
  /** Drops the database and the user (on the primary, so on both). */
  drop(): Promise<void>;
}

let files = 0;

/**
 * Makes a database and a SELECT-only user of this test file on the primary (both reach the
 * replica through replication, as they would in production), waits for the replica to have them,
 * and answers the target whose `readUrl` reads the replica as that user.
 */
export async function replicatedDatabase(pair: ReplicationPair): Promise<ReplicatedDatabase> {
  files += 1;
  const run = process.env.WXHUB_TEST_RUN ?? 'local';
  const name = `${TEST_DATABASE_PREFIX}r_${run}_${process.pid}_${files}`.slice(0, 64);
  // MariaDB user names are at most 80 characters; a per-file user keeps the counts per file.
  const user = `wxr_${process.pid}_${files}_${Date.now().toString(36)}`;
  const password = `pw-${user}`;
  const primary = await adminConnection(pair.primary);
  const replica = await adminConnection(pair.replica);
  await primary.query(
    `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  );
  await primary.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
  await primary.query(`GRANT SELECT ON \`${name}\`.* TO '${user}'@'%'`);

  const caughtUp = async () => {
    const [rows] = await primary.query('SHOW MASTER STATUS');
    const [status] = rows as { File: string; Position: number }[];
    if (status === undefined) throw new Error('the primary writes no binary log');
    const [waited] = await replica.query('SELECT MASTER_POS_WAIT(?, ?, 30) AS w', [
      status.File,
      status.Position,
    ]);
    const w = (waited as { w: number | null }[])[0]?.w;
    if (w === null || w === undefined || w < 0) {
      throw new Error(`the replica did not catch up with the primary (MASTER_POS_WAIT: ${w})`);
    }
  };
  await caughtUp();

  const url = (base: string) => {
    const u = new URL(base);
    u.pathname = `/${name}`;
    return u;
  };
  const readUrl = url(pair.replica);
  readUrl.username = user;
  readUrl.password = password;
  return {
    target: {
      name: 'mysql',
      config: { dialect: 'mysql', url: url(pair.primary).toString(), readUrl: readUrl.toString() },
    },
    targetVia(port) {
      const via = new URL(readUrl);
      via.hostname = '127.0.0.1';
      via.port = String(port);
      return {
        name: 'mysql',
        config: { dialect: 'mysql', url: url(pair.primary).toString(), readUrl: via.toString() },
      };
    },
    caughtUp,
    async replicaSelects() {
      // MariaDB answers a statement before it adds it to USER_STATISTICS (dispatch_command sends
      // the result, then merges the connection's counts, then marks it Sleep), so a count read
      // right after an answer can miss that statement and see it a moment later. Counting only
      // once every connection of the user sleeps (or is gone) makes the count final.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const [busy] = await replica.query(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND <> 'Sleep'",
          [user],
        );
        if (Number((busy as { n: number | string }[])[0]?.n ?? 0) === 0) break;
        if (Date.now() > deadline) {
          throw new Error('a connection of the replica reader stayed busy for 10 s');
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const [rows] = await replica.query(
        'SELECT SELECT_COMMANDS AS n FROM information_schema.USER_STATISTICS WHERE USER = ?',
        [user],
      );
      return Number((rows as { n: number | string }[])[0]?.n ?? 0);
    },
    async pauseApplying() {
      await replica.query('STOP SLAVE SQL_THREAD');
    },
    async resumeApplying() {
      await replica.query('START SLAVE SQL_THREAD');
    },
    async drop() {
      try {
        await replica.query('START SLAVE SQL_THREAD');
        await primary.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await primary.query(`DROP USER IF EXISTS '${user}'@'%'`);
      } finally {
        await primary.end();
        await replica.end();
      }
    },
  };
}

/** A connection to the server of `url` (no database), as its admin user. */
async function adminConnection(url: string): Promise<Connection> {
  const u = new URL(url);
  u.pathname = '/';
  return createConnection(u.toString());
}

/** A TCP relay to a database server that a test can cut and restore (a replica going down). */
export interface Relay {
  /** The relay's port (the same after {@link Relay.restore}). */
  port: number;
  /** Connections it has accepted so far. */
  readonly connections: number;
  /** Closes every relayed connection and stops listening: connecting is refused. */
  cut(): Promise<void>;
  /** Listens again on the same port (and thaws). */
  restore(): Promise<void>;
  /** Keeps every connection open but passes nothing on: a host that went silent. */
  freeze(): void;
  close(): Promise<void>;
}

/** Starts a relay on a free local port to `url`'s host and port. */
export async function startRelay(url: string): Promise<Relay> {
  const target = new URL(url);
  const host = target.hostname;
  const port = Number(target.port || '3306');
  const sockets = new Set<Socket>();
  let connections = 0;
  let frozen = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  let server: Server | undefined;
  const listen = (on: number) =>
    new Promise<number>((resolve, reject) => {
      const s = createServer((client) => {
        connections += 1;
        const upstream = connect(port, host);
        track(client);
        track(upstream);
        // While frozen, bytes are dropped both ways: a server that stopped answering.
        client.on('data', (d: Buffer) => {
          if (!frozen) upstream.write(d);
        });
        upstream.on('data', (d: Buffer) => {
          if (!frozen) client.write(d);
        });
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(on, '127.0.0.1', () => {
        server = s;
        const address = s.address();
        resolve(typeof address === 'object' && address !== null ? address.port : on);
      });
    });
  const relayPort = await listen(0);
  const cut = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  return {
    port: relayPort,
    get connections() {
      return connections;
    },
    cut,
    async restore() {
      frozen = false;
      if (server === undefined) await listen(relayPort);
    },
    freeze() {
      frozen = true;
    },
    close: cut,
  };
}
