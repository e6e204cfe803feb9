import type { Database } from 'better-sqlite3';
import { asc, lt } from 'drizzle-orm';
import { pairKey, type SignatureMemory } from '../messages';
import { SIGNATURE_GRACE_MS, SignatureReplayError } from '../types';

/** Where a remembered signature is in the log, and until when it matters. */
class Entry {
  constructor(
    readonly id: number,
    readonly expiresAt: number,
  ) {}
}

interface LoggedRow {
  id: number;
  app: string;
  signature: string;
  bodyHash: string;
  expiresAt: number;
}

/**
 * The embedded database's replay memory: each accepted push's signature appended to
 * `callback_signature_log`, the unique (app, signature) key that tells a new signature from one
 * used before kept in this process as a map from key to log row. A unique index in the database
 * puts every push's entry on a random page of the index — a page more for the commit to write and
 * sync per push, which cost the SQLite store a third of the pushes it stored per second; the log's
 * rows are appended next to one another.
 *
 * Exact, as the unique key was, also with other processes writing the same file: every lookup
 * runs inside the push's write transaction (`BEGIN IMMEDIATE`: no other connection commits until
 * it ends), and first reads whatever other connections appended since the last look, which
 * SQLite's `data_version` tells (it changes only for others' commits). A key found is checked
 * against its log row (read by id) before it is believed: an entry whose transaction was rolled
 * back, or whose row is gone, is dropped and the signature counts as new. So the map holds every
 * signature of the log that has not been expired for {@link SIGNATURE_GRACE_MS} (a push accepted
 * just before its replayed signature expired may wait that long for the write lock), and maybe
 * more.
 *
 * Memory: one entry per signature whose timestamp is still accepted, and a minute more (about
 * 190 bytes: 69 MB for 1,000 pushes a second over the default 300 s skew; timestamps ahead of
 * the clock can keep older ones a little longer). Entries go oldest first as pushes arrive, and
 * when the refresh pass purges the log.
 *
 * Every lookup must run inside the store's write transaction (`BEGIN IMMEDIATE`, as every
 * transaction of ./sqlite.ts begins): a deferred one would not keep others from committing.
 */
export function sqliteSignatureMemory(sqlite: Database): SignatureMemory {
  const entries = new Map<string, Entry>();
  let loaded = false;
  let lastId = 0;
  let seenVersion = -1;

  // Compiled once and kept (a push runs these; the connection's statement cache may drop them).
  const version = sqlite.prepare<[], { data_version: number }>('PRAGMA data_version');
  const rowsAfter = sqlite.prepare<[number], Omit<LoggedRow, 'bodyHash'>>(
    'SELECT id, app, signature, expires_at AS expiresAt FROM callback_signature_log WHERE id > ? ORDER BY id',
  );
  // The first look: what has not expired, and where the log ends.
  const rowsLive = sqlite.prepare<[number], Omit<LoggedRow, 'bodyHash'>>(
    'SELECT id, app, signature, expires_at AS expiresAt FROM callback_signature_log WHERE expires_at >= ? ORDER BY id',
  );
  const newestId = sqlite.prepare<[], { id: number | null }>(
    'SELECT max(id) AS id FROM callback_signature_log',
  );
  const rowById = sqlite.prepare<[number], Omit<LoggedRow, 'id' | 'expiresAt'>>(
    'SELECT app, signature, body_hash AS bodyHash FROM callback_signature_log WHERE id = ?',
  );
  const append = sqlite.prepare<[string, string, string, number]>(
    'INSERT INTO callback_signature_log (app, signature, body_hash, expires_at) VALUES (?, ?, ?, ?)',
  );
  const dataVersion = () => {
    const v = version.get()?.data_version;
    if (typeof v !== 'number') throw new Error('SQLite did not tell its data_version');
    return v;
  };

  /**
   * Reads what other connections appended since the last look (the first time, everything not
   * expired before `keepFrom`). Our own rows since then come again (`lastId` follows only what
   * was read, never a row of a transaction that may yet roll back).
   */
  const catchUp = (keepFrom: number) => {
    const now = dataVersion();
    if (loaded && now === seenVersion) return;
    if (!loaded) lastId = newestId.get()?.id ?? 0;
    const rows = loaded ? rowsAfter.iterate(lastId) : rowsLive.iterate(keepFrom);
    for (const row of rows) {
      entries.set(pairKey(row.app, row.signature), new Entry(row.id, row.expiresAt));
      if (row.id > lastId) lastId = row.id;
    }
    loaded = true;
    seenVersion = now;
  };

  /** Drops the oldest entries while they are expired (nearly in order: they come as pushes do). */
  const prune = (before: number) => {
    for (const [key, entry] of entries) {
      if (entry.expiresAt >= before) break;
      entries.delete(key);
    }
  };

  return {
    // The statements run on the connection, inside the push's transaction.
    async remember(_tx, app, signature, now) {
      if (!sqlite.inTransaction) {
        throw new Error('a push signature is remembered only inside its write transaction');
      }
      const keepFrom = now - SIGNATURE_GRACE_MS;
      prune(keepFrom);
      catchUp(keepFrom);
      const key = pairKey(app, signature.signature);
      const known = entries.get(key);
      if (known !== undefined) {
        const row = rowById.get(known.id);
        if (row !== undefined && row.app === app && row.signature === signature.signature) {
          if (row.bodyHash !== signature.bodyHash) throw new SignatureReplayError();
          return;
        }
        // Rolled back, or purged: the signature is not remembered after all.
        entries.delete(key);
      }
      const { lastInsertRowid } = append.run(
        app,
        signature.signature,
        signature.bodyHash,
        signature.expiresAt,
      );
      entries.set(key, new Entry(Number(lastInsertRowid), signature.expiresAt));
    },
    async purge(db, before, limit) {
      prune(before);
      const log = db.t.callbackSignatureLog;
      return db.delete('callbackSignatureLog', lt(log.expiresAt, before), {
        orderBy: asc(log.expiresAt),
        limit,
      });
    },
  };
}

const byConnection = new WeakMap<Database, SignatureMemory>();

/**
 * The replay memory of the connection `sqlite`, made on first use: stores opened on the same
 * connection share it (SQLite's `data_version` does not change for the connection's own commits,
 * so a memory of their own would miss each other's signatures).
 */
export function signatureMemoryOf(sqlite: Database): SignatureMemory {
  let memory = byConnection.get(sqlite);
  if (memory === undefined) {
    memory = sqliteSignatureMemory(sqlite);
    byConnection.set(sqlite, memory);
  }
  return memory;
}
