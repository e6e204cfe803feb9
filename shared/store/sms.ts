import { and, desc, eq, gt, isNull, lt, lte, ne, or, sql } from 'drizzle-orm';
import type { Db } from './dialect';

/** The status of a sent code: `failed` never verifies and does not count against the limits. */
export type SmsCodeStatus = 'sending' | 'sent' | 'failed' | 'unknown';

/** A code that may still verify: its row id, hash and wrong tries so far. */
export interface LiveSmsCode {
  id: number;
  codeHash: string;
  failures: number;
}

/** Wrong tries after which a code is dead. */
export const SMS_MAX_FAILURES = 5;

/** Where a code goes: the sender, the phone (hashed) and the scene. */
export interface SmsTarget {
  sender: string;
  phoneHash: string;
  scene: string;
}

/**
 * SMS verification codes (shared/db/tables/sms.ts). Taking a code is one conditional UPDATE, so
 * of two concurrent verifications exactly one wins; sends to one phone are serialised by a lease
 * on its lock row, on any instance.
 */
export interface SmsRepo {
  /** Takes the phone's lock for `leaseMs`; false while another holds it. */
  lock(
    sender: string,
    phoneHash: string,
    owner: string,
    now: number,
    leaseMs: number,
  ): Promise<boolean>;
  unlock(sender: string, phoneHash: string, owner: string): Promise<void>;
  /** Sends since `since` (not `failed`), to the phone, or to the phone for one scene. */
  countSends(sender: string, phoneHash: string, since: number, scene?: string): Promise<number>;
  /** Stores a new code (status `sending`) and kills the earlier live codes of its target. */
  addCode(target: SmsTarget, codeHash: string, expiresAt: number, now: number): Promise<number>;
  setStatus(id: number, status: SmsCodeStatus): Promise<void>;
  /** The newest code of the target that may still verify at `now`. */
  liveCode(target: SmsTarget, now: number): Promise<LiveSmsCode | undefined>;
  /** Marks the code used if it still may verify (one UPDATE): true for the one caller that did. */
  consume(id: number, now: number): Promise<boolean>;
  /** Counts one wrong try. */
  fail(id: number): Promise<void>;
  /** Deletes codes created before `before` (at most `limit`). */
  purgeBefore(before: number, limit: number): Promise<number>;
}

export function smsRepo(db: Db): SmsRepo {
  const { smsCodes: c, smsLocks: l } = db.t;
  const lockKey = (sender: string, phoneHash: string) =>
    and(eq(l.sender, sender), eq(l.phoneHash, phoneHash));
  const live = (now: number) =>
    and(
      isNull(c.usedAt),
      lt(c.failures, SMS_MAX_FAILURES),
      gt(c.expiresAt, now),
      ne(c.status, 'failed'),
    );
  return {
    async lock(sender, phoneHash, owner, now, leaseMs) {
      const lease = { leaseOwner: owner, leaseUntil: now + leaseMs };
      const id = await db.insertIgnore('smsLocks', { sender, phoneHash, ...lease });
      if (id !== undefined) return true;
      const free = or(isNull(l.leaseUntil), lte(l.leaseUntil, now));
      return (await db.update('smsLocks', lease, and(lockKey(sender, phoneHash), free))) > 0;
    },
    async unlock(sender, phoneHash, owner) {
      const mine = and(lockKey(sender, phoneHash), eq(l.leaseOwner, owner));
      await db.update('smsLocks', { leaseOwner: null, leaseUntil: null }, mine);
    },
    countSends(sender, phoneHash, since, scene) {
      return db.count(
        'smsCodes',
        and(
          eq(c.sender, sender),
          eq(c.phoneHash, phoneHash),
          gt(c.createdAt, since),
          ne(c.status, 'failed'),
          scene === undefined ? undefined : eq(c.scene, scene),
        ),
      );
    },
    async addCode(target, codeHash, expiresAt, now) {
      const mine = and(
        eq(c.sender, target.sender),
        eq(c.phoneHash, target.phoneHash),
        eq(c.scene, target.scene),
      );
      await db.update('smsCodes', { failures: SMS_MAX_FAILURES }, and(mine, isNull(c.usedAt)));
      const id = await db.insertIgnore('smsCodes', {
        ...target,
        codeHash,
        status: 'sending',
        failures: 0,
        expiresAt,
        createdAt: now,
      });
      if (id === undefined) throw new Error('sms code row not inserted');
      return id;
    },
    async setStatus(id, status) {
      await db.update('smsCodes', { status }, eq(c.id, id));
    },
    async liveCode(target, now) {
      const row = await db.first(
        'smsCodes',
        and(
          eq(c.sender, target.sender),
          eq(c.phoneHash, target.phoneHash),
          eq(c.scene, target.scene),
          live(now),
        ),
        { columns: ['id', 'codeHash', 'failures'], orderBy: desc(c.id) },
      );
      return row;
    },
    async consume(id, now) {
      return (await db.update('smsCodes', { usedAt: now }, and(eq(c.id, id), live(now)))) === 1;
    },
    async fail(id) {
      await db.update(
        'smsCodes',
        { failures: sql`${c.failures} + 1` },
        and(eq(c.id, id), isNull(c.usedAt)),
      );
    },
    purgeBefore(before, limit) {
      return db.delete('smsCodes', lt(c.createdAt, before), { limit });
    },
  };
}
