import { and, asc, eq, gt, isNotNull, isNull, lt, lte, notInArray, or, sql } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { credentials } from '../../db/schema/sqlite';
import type { Codec } from '../codec';
import type { CredentialKey, CredentialsRepo } from '../types';

const byKey = (k: CredentialKey) =>
  and(eq(credentials.owner, k.owner), eq(credentials.kind, k.kind));

/** Credentials on SQLite: the lease is one conditional UPDATE, serialised by SQLite's write lock. */
export function sqliteCredentials(db: BetterSQLite3Database, codec: Codec): CredentialsRepo {
  // `wx1.<8 hex key id>.…`: characters 5 to 12 name the key (substr is 1-based on both dialects).
  const unknownKey = and(
    isNotNull(credentials.value),
    notInArray(sql`substr(${credentials.value}, 5, 8)`, [...codec.keyIds]),
  );
  return {
    async get(k) {
      const row = db.select().from(credentials).where(byKey(k)).get();
      return row === undefined ? undefined : codec.credential(row);
    },
    async ensure(k, now) {
      db.insert(credentials)
        .values({ owner: k.owner, kind: k.kind, createdAt: now, updatedAt: now })
        .onConflictDoNothing()
        .run();
    },
    async claimLease(k, leaseOwner, now, leaseMs) {
      const free = or(isNull(credentials.leaseOwner), lte(credentials.leaseUntil, now));
      const r = db
        .update(credentials)
        .set({ leaseOwner, leaseUntil: now + leaseMs, updatedAt: now })
        .where(and(byKey(k), free))
        .run();
      return r.changes === 1;
    },
    async releaseLease(k, leaseOwner) {
      const r = db
        .update(credentials)
        .set({ leaseOwner: null, leaseUntil: null })
        .where(and(byKey(k), eq(credentials.leaseOwner, leaseOwner)))
        .run();
      return r.changes === 1;
    },
    async saveValue(k, leaseOwner, v, now) {
      const r = db
        .update(credentials)
        .set({
          value: codec.sealCredential(k, v.value),
          expiresAt: v.expiresAt,
          version: sql`${credentials.version} + 1`,
          leaseOwner: null,
          leaseUntil: null,
          lastError: null,
          lastErrorAt: null,
          failures: 0,
          nextAttemptAt: null,
          refreshedAt: now,
          updatedAt: now,
        })
        .where(and(byKey(k), eq(credentials.leaseOwner, leaseOwner)))
        .run();
      return r.changes === 1;
    },
    async recordError(k, leaseOwner, e, now) {
      const r = db
        .update(credentials)
        .set({
          leaseOwner: null,
          leaseUntil: null,
          lastError: e.message,
          lastErrorAt: now,
          failures: sql`${credentials.failures} + 1`,
          nextAttemptAt: e.nextAttemptAt,
          updatedAt: now,
        })
        .where(and(byKey(k), eq(credentials.leaseOwner, leaseOwner)))
        .run();
      return r.changes === 1;
    },
    async put(k, v, now) {
      const set = {
        value: codec.sealCredential(k, v.value),
        expiresAt: v.expiresAt,
        updatedAt: now,
      };
      db.insert(credentials)
        .values({ owner: k.owner, kind: k.kind, createdAt: now, ...set })
        .onConflictDoUpdate({ target: [credentials.owner, credentials.kind], set })
        .run();
    },
    async listFailing(now, limit) {
      return db
        .select()
        .from(credentials)
        .where(and(isNotNull(credentials.lastError), gt(credentials.nextAttemptAt, now)))
        .limit(limit)
        .all()
        .map(codec.credential);
    },
    async clearValue(k, now) {
      db.update(credentials)
        .set({
          value: null,
          expiresAt: null,
          version: sql`${credentials.version} + 1`,
          updatedAt: now,
        })
        .where(byKey(k))
        .run();
    },
    async listDue(before, now, limit) {
      const due = or(isNull(credentials.expiresAt), lt(credentials.expiresAt, before));
      const notBackingOff = or(
        isNull(credentials.nextAttemptAt),
        lte(credentials.nextAttemptAt, now),
      );
      return db
        .select()
        .from(credentials)
        .where(and(due, notBackingOff))
        .orderBy(asc(credentials.expiresAt))
        .limit(limit)
        .all()
        .map(codec.credential);
    },
    async listUnderUnknownKeys(limit) {
      return db
        .select()
        .from(credentials)
        .where(unknownKey)
        .orderBy(asc(credentials.owner), asc(credentials.kind))
        .limit(limit)
        .all()
        .map(codec.credential);
    },
  };
}
