import {
  and,
  asc,
  eq,
  gt,
  inArray,
  isNotNull,
  isNull,
  like,
  lt,
  lte,
  notInArray,
  notLike,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { Codec } from './codec';
import type { Db } from './dialect';
import type { CredentialKey, CredentialRecord, CredentialsRepo, DueCredential } from './types';

/**
 * Credentials, one row per owner and kind. The refresh lease is one conditional UPDATE: on MySQL
 * InnoDB's row lock makes concurrent claimers re-check the condition, on SQLite the write lock
 * serialises them, so exactly one wins.
 */
export function credentialsRepo(db: Db, codec: Codec): CredentialsRepo {
  const { credentials } = db.t;
  const byKey = (k: CredentialKey) =>
    and(eq(credentials.owner, k.owner), eq(credentials.kind, k.kind));
  const leasedBy = (k: CredentialKey, leaseOwner: string): SQL | undefined =>
    and(byKey(k), eq(credentials.leaseOwner, leaseOwner));
  // A row without its value: a reader holding the old version sees it changed.
  const emptied = (now: number) => ({
    value: null,
    expiresAt: null,
    version: sql`${credentials.version} + 1`,
    updatedAt: now,
  });
  // `wx1.<8 hex key id>.…`: characters 5 to 12 name the key (substr is 1-based on both dialects).
  const unknownKey = and(
    isNotNull(credentials.value),
    notInArray(sql`substr(${credentials.value}, 5, 8)`, [...codec.keyIds]),
  );
  return {
    async get(k) {
      const row = await db.first('credentials', byKey(k));
      return row === undefined ? undefined : codec.credential(row);
    },
    async getMany(owners, kinds) {
      if (owners.length === 0 || kinds.length === 0) return [];
      const where = and(
        inArray(credentials.owner, [...owners]),
        inArray(credentials.kind, [...kinds]),
      );
      return (await db.select('credentials', where)).map((row) => codec.credential(row));
    },
    async ensure(k, now) {
      const row = { owner: k.owner, kind: k.kind, createdAt: now, updatedAt: now };
      await db.upsert('credentials', row, { target: ['owner', 'kind'] });
    },
    async claimLease(k, leaseOwner, now, leaseMs) {
      const free = or(isNull(credentials.leaseOwner), lte(credentials.leaseUntil, now));
      const set = { leaseOwner, leaseUntil: now + leaseMs, updatedAt: now };
      return (await db.update('credentials', set, and(byKey(k), free))) === 1;
    },
    async releaseLease(k, leaseOwner) {
      const set = { leaseOwner: null, leaseUntil: null };
      return (await db.update('credentials', set, leasedBy(k, leaseOwner))) === 1;
    },
    async extendLease(k, leaseOwner, now, leaseMs) {
      const set = { leaseUntil: now + leaseMs, updatedAt: now };
      return (await db.update('credentials', set, leasedBy(k, leaseOwner))) === 1;
    },
    async saveValue(k, leaseOwner, v, now) {
      const set = {
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
      };
      return (await db.update('credentials', set, leasedBy(k, leaseOwner))) === 1;
    },
    async recordError(k, leaseOwner, e, now) {
      const set = {
        leaseOwner: null,
        leaseUntil: null,
        lastError: e.message,
        lastErrorAt: now,
        failures: sql`${credentials.failures} + 1`,
        nextAttemptAt: e.nextAttemptAt,
        updatedAt: now,
      };
      return (await db.update('credentials', set, leasedBy(k, leaseOwner))) === 1;
    },
    async put(k, v, now) {
      const set = {
        value: codec.sealCredential(k, v.value),
        expiresAt: v.expiresAt,
        updatedAt: now,
      };
      const row = { owner: k.owner, kind: k.kind, createdAt: now, ...set };
      await db.upsert('credentials', row, { target: ['owner', 'kind'], set });
    },
    async putIfNewer(k, v, now) {
      await db.upsert(
        'credentials',
        { owner: k.owner, kind: k.kind, createdAt: now, updatedAt: now },
        { target: ['owner', 'kind'] },
      );
      const set = {
        value: codec.sealCredential(k, v.value),
        expiresAt: v.expiresAt,
        version: sql`${credentials.version} + 1`,
        updatedAt: now,
      };
      // One conditional UPDATE: an older value arriving after a newer one matches no row.
      const older = or(isNull(credentials.expiresAt), lt(credentials.expiresAt, v.expiresAt));
      return (await db.update('credentials', set, and(byKey(k), older))) === 1;
    },
    async listFailing(now, limit) {
      const failing = and(isNotNull(credentials.lastError), gt(credentials.nextAttemptAt, now));
      const rows = await db.select('credentials', failing, { limit });
      return rows.map(codec.credential);
    },
    async clearValue(k, now) {
      await db.update('credentials', emptied(now), byKey(k));
    },
    async dropValue(k, now) {
      const set = { ...emptied(now), leaseOwner: null, leaseUntil: null };
      await db.update('credentials', set, byKey(k));
    },
    async purgeKindBefore(ownerPrefix, kind, before, limit) {
      // A LIKE prefix: no wildcard or escape character in it.
      if (/[%_\\]/.test(ownerPrefix)) throw new Error('owner prefix with a LIKE wildcard');
      const free = or(isNull(credentials.leaseUntil), lt(credentials.leaseUntil, before));
      const spent = and(lt(credentials.updatedAt, before), free);
      const rows = await db.select(
        'credentials',
        and(like(credentials.owner, `${ownerPrefix}%`), eq(credentials.kind, kind), spent),
        { columns: ['id'], orderBy: asc(credentials.owner), limit },
      );
      if (rows.length === 0) return 0;
      // By id, the conditions checked again: a row written meanwhile stays.
      const ids = rows.map((r) => r.id);
      return db.delete('credentials', and(inArray(credentials.id, ids), spent));
    },
    async removeLeased(k, leaseOwner) {
      return (await db.delete('credentials', leasedBy(k, leaseOwner))) === 1;
    },
    async listDueKeys(q) {
      const notBackingOff = or(
        isNull(credentials.nextAttemptAt),
        lte(credentials.nextAttemptAt, q.now),
      );
      const columns = ['id', 'owner', 'kind', 'expiresAt'] as const;
      const toDue = (r: { id: number; owner: string; kind: string; expiresAt: number | null }) =>
        r.expiresAt === null
          ? { id: r.id, owner: r.owner, kind: r.kind }
          : { id: r.id, owner: r.owner, kind: r.kind, expiresAt: r.expiresAt };
      const after = q.after;
      const out: DueCredential[] = [];
      if (after === undefined || after.expiresAt === undefined) {
        const unset = and(
          isNull(credentials.expiresAt),
          after === undefined ? undefined : gt(credentials.id, after.id),
          q.unsetNeverDue === undefined
            ? undefined
            : notLike(credentials.owner, `${q.unsetNeverDue}%`),
          notBackingOff,
        );
        const rows = await db.select('credentials', unset, {
          columns,
          orderBy: asc(credentials.id),
          limit: q.limit,
        });
        out.push(...rows.map(toDue));
        if (out.length >= q.limit) return out;
      }
      const from =
        after?.expiresAt === undefined
          ? undefined
          : or(
              gt(credentials.expiresAt, after.expiresAt),
              and(eq(credentials.expiresAt, after.expiresAt), gt(credentials.id, after.id)),
            );
      const rows = await db.select(
        'credentials',
        and(lt(credentials.expiresAt, q.before), from, notBackingOff),
        {
          columns,
          orderBy: [asc(credentials.expiresAt), asc(credentials.id)],
          limit: q.limit - out.length,
        },
      );
      out.push(...rows.map(toDue));
      return out;
    },
    async claimDueLeases(kind, owners, leaseOwner, now, leaseMs, dueBefore) {
      if (owners.length === 0) return [];
      const mine = and(eq(credentials.kind, kind), inArray(credentials.owner, [...owners]));
      const claimable = and(
        or(isNull(credentials.leaseOwner), lte(credentials.leaseUntil, now)),
        or(isNull(credentials.expiresAt), lt(credentials.expiresAt, dueBefore)),
        or(isNull(credentials.nextAttemptAt), lte(credentials.nextAttemptAt, now)),
      );
      // A plain read first (no lock), then the UPDATE by primary key, the condition checked
      // again: rows another instance holds are not locked at all. Scanning `mine` in the UPDATE
      // would lock every row it passed (on a small table InnoDB scans it whole) and wait for
      // them, in id order, while that instance's batch writes them in its own order: deadlock.
      const free = await db.select('credentials', and(mine, claimable), {
        columns: ['id'],
        orderBy: asc(credentials.id),
      });
      if (free.length === 0) return [];
      const ids = free.map((r) => r.id);
      const set = { leaseOwner, leaseUntil: now + leaseMs, updatedAt: now };
      if (
        (await db.update('credentials', set, and(inArray(credentials.id, ids), claimable))) === 0
      ) {
        return [];
      }
      return db.select(
        'credentials',
        and(inArray(credentials.id, ids), eq(credentials.leaseOwner, leaseOwner)),
        { columns: ['owner', 'failures'] },
      );
    },
    transaction(work) {
      return db.transaction((tx) => work(credentialsRepo(tx, codec)));
    },
    async getManyOfKind(kind, owners) {
      const found = new Map<string, CredentialRecord>();
      if (owners.length === 0) return found;
      const rows = await db.select(
        'credentials',
        and(eq(credentials.kind, kind), inArray(credentials.owner, [...owners])),
      );
      for (const row of rows) found.set(row.owner, codec.credential(row));
      return found;
    },
    async list(q) {
      const where = and(
        q.owner === undefined ? undefined : eq(credentials.owner, q.owner),
        q.kinds === undefined ? undefined : inArray(credentials.kind, [...q.kinds]),
      );
      const rows = await db.select('credentials', where, {
        orderBy: [asc(credentials.owner), asc(credentials.kind)],
        limit: q.limit,
      });
      return rows.map(codec.credential);
    },
    async listUnderUnknownKeys(limit) {
      const rows = await db.select('credentials', unknownKey, {
        orderBy: [asc(credentials.owner), asc(credentials.kind)],
        limit,
      });
      return rows.map(codec.credential);
    },
  };
}
