import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { deliveryRecord } from './codec';
import type { Db } from './dialect';
import type { OutboxRepo } from './types';

/** The delivery outbox: rows claimed by a worker with a lock that expires, retried with backoff. */
export function outboxRepo(db: Db): OutboxRepo {
  const { outbox: o } = db.t;
  /** Rows an admin may requeue or discard: not delivered, not discarded already. */
  const open = inArray(o.status, ['pending', 'dead']);
  return {
    async claimDue(worker, now, lockMs, limit, owner) {
      // One UPDATE of the first `limit` due rows locks the batch; concurrent drainers get
      // disjoint rows (the statement re-checks the lock under the row or write lock).
      const due = and(
        eq(o.status, 'pending'),
        lte(o.nextAttemptAt, now),
        or(isNull(o.lockedUntil), lte(o.lockedUntil, now)),
        owner === undefined ? undefined : eq(o.owner, owner),
      );
      const lock = { lockedBy: worker, lockedUntil: now + lockMs, updatedAt: now };
      await db.update('outbox', lock, due, { orderBy: asc(o.nextAttemptAt), limit });
      const rows = await db.select('outbox', and(eq(o.lockedBy, worker), eq(o.status, 'pending')), {
        orderBy: asc(o.nextAttemptAt),
      });
      return rows.map(deliveryRecord);
    },
    async markDelivered(id, worker, now) {
      const set = {
        status: 'delivered',
        attempts: sql`${o.attempts} + 1`,
        deliveredAt: now,
        lockedBy: null,
        lockedUntil: null,
        lastError: null,
        updatedAt: now,
      };
      return (await db.update('outbox', set, and(eq(o.id, id), eq(o.lockedBy, worker)))) === 1;
    },
    async markFailed(id, worker, error, nextAttemptAt, now) {
      return db.transaction(async (tx) => {
        const row = await tx.first('outbox', and(eq(o.id, id), eq(o.lockedBy, worker)), {
          columns: ['attempts', 'maxAttempts'],
          forUpdate: true,
        });
        if (row === undefined) return 'lost' as const;
        const status = row.attempts + 1 >= row.maxAttempts ? 'dead' : 'pending';
        const set = {
          status,
          attempts: row.attempts + 1,
          nextAttemptAt,
          lastError: error,
          lockedBy: null,
          lockedUntil: null,
          updatedAt: now,
        };
        await tx.update('outbox', set, eq(o.id, id));
        return status;
      });
    },
    async forSource(source, sourceId) {
      const rows = await db.select('outbox', and(eq(o.source, source), eq(o.sourceId, sourceId)), {
        orderBy: asc(o.id),
      });
      return rows.map(deliveryRecord);
    },
    async purgeDelivered(before, limit) {
      const delivered = and(eq(o.status, 'delivered'), lt(o.deliveredAt, before));
      const gone = await db.delete('outbox', delivered, { orderBy: asc(o.deliveredAt), limit });
      if (gone >= limit) return gone;
      // Discarded rows go the same way, by when they were discarded.
      const discarded = and(eq(o.status, 'discarded'), lt(o.updatedAt, before));
      return (
        gone +
        (await db.delete('outbox', discarded, { orderBy: asc(o.updatedAt), limit: limit - gone }))
      );
    },
    async get(id) {
      const row = await db.first('outbox', eq(o.id, id));
      return row === undefined ? undefined : deliveryRecord(row);
    },
    async countStatus(status) {
      return db.count('outbox', eq(o.status, status));
    },
    async requeue(id, now) {
      const set = {
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        lockedBy: null,
        lockedUntil: null,
        updatedAt: now,
      };
      return (await db.update('outbox', set, and(eq(o.id, id), open))) === 1;
    },
    async discard(id, now) {
      const set = { status: 'discarded', lockedBy: null, lockedUntil: null, updatedAt: now };
      return (await db.update('outbox', set, and(eq(o.id, id), open))) === 1;
    },
    async list(filter) {
      const where = and(
        filter.status === undefined ? undefined : eq(o.status, filter.status),
        filter.owner === undefined ? undefined : eq(o.owner, filter.owner),
      );
      const rows = await db.select(
        'outbox',
        where,
        filter.newest === undefined
          ? { orderBy: asc(o.id) }
          : { orderBy: desc(o.id), limit: filter.newest },
      );
      return rows.map(deliveryRecord);
    },
  };
}
