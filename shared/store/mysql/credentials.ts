import { and, asc, eq, gt, isNotNull, isNull, lt, lte, notInArray, or, sql } from 'drizzle-orm';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import { credentials } from '../../db/schema/mysql';
import type { Codec } from '../codec';
import type { CredentialKey, CredentialsRepo } from '../types';
import { affected } from './util';

const byKey = (k: CredentialKey) =>
  and(eq(credentials.owner, k.owner), eq(credentials.kind, k.kind));

/** Credentials on MySQL/MariaDB: the lease is one conditional UPDATE; InnoDB's row lock makes concurrent claimers re-check the condition, so one wins. */
export function mysqlCredentials(db: MySql2Database, codec: Codec): CredentialsRepo {
  // `wx1.<8 hex key id>.…`: characters 5 to 12 name the key (substr is 1-based on both dialects).
  const unknownKey = and(
    isNotNull(credentials.value),
    notInArray(sql`substr(${credentials.value}, 5, 8)`, [...codec.keyIds]),
  );
  return {
    async get(k) {
      const [row] = await db.select().from(credentials).where(byKey(k));
      return row === undefined ? undefined : codec.credential(row);
    },
    async ensure(k, now) {
      await db
        .insert(credentials)
        .values({ owner: k.owner, kind: k.kind, createdAt: now, updatedAt: now })
        .onDuplicateKeyUpdate({ set: { owner: k.owner } });
    },
    async claimLease(k, leaseOwner, now, leaseMs) {
      const free = or(isNull(credentials.leaseOwner), lte(credentials.leaseUntil, now));
      const r = await db
        .update(credentials)
        .set({ leaseOwner, leaseUntil: now + leaseMs, updatedAt: now })
        .where(and(byKey(k), free));
      return affected(r) === 1;
    },
    async releaseLease(k, leaseOwner) {
      const r = await db
        .update(credentials)
        .set({ leaseOwner: null, leaseUntil: null })
        .where(and(byKey(k), eq(credentials.leaseOwner, leaseOwner)));
      return affected(r) === 1;
    },
    async saveValue(k, leaseOwner, v, now) {
      const r = await db
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
        .where(and(byKey(k), eq(credentials.leaseOwner, leaseOwner)));
      return affected(r) === 1;
    },
    async recordError(k, leaseOwner, e, now) {
      const r = await db
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
        .where(and(byKey(k), eq(credentials.leaseOwner, leaseOwner)));
      return affected(r) === 1;
    },
    async put(k, v, now) {
      const set = {
        value: codec.sealCredential(k, v.value),
        expiresAt: v.expiresAt,
        updatedAt: now,
      };
      await db
        .insert(credentials)
        .values({ owner: k.owner, kind: k.kind, createdAt: now, ...set })
        .onDuplicateKeyUpdate({ set });
    },
    async listFailing(now, limit) {
      const rows = await db
        .select()
        .from(credentials)
        .where(and(isNotNull(credentials.lastError), gt(credentials.nextAttemptAt, now)))
        .limit(limit);
      return rows.map(codec.credential);
    },
    async clearValue(k, now) {
      await db
        .update(credentials)
        .set({
          value: null,
          expiresAt: null,
          version: sql`${credentials.version} + 1`,
          updatedAt: now,
        })
        .where(byKey(k));
    },
    async listDue(before, now, limit) {
      const due = or(isNull(credentials.expiresAt), lt(credentials.expiresAt, before));
      const notBackingOff = or(
        isNull(credentials.nextAttemptAt),
        lte(credentials.nextAttemptAt, now),
      );
      const rows = await db
        .select()
        .from(credentials)
        .where(and(due, notBackingOff))
        .orderBy(asc(credentials.expiresAt))
        .limit(limit);
      return rows.map(codec.credential);
    },
    async listUnderUnknownKeys(limit) {
      const rows = await db
        .select()
        .from(credentials)
        .where(unknownKey)
        .orderBy(asc(credentials.owner), asc(credentials.kind))
        .limit(limit);
      return rows.map(codec.credential);
    },
  };
}
