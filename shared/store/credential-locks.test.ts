import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MysqlHandle } from '../db/client';
import { openTestStore, testTargets, uniqueName } from './testing';
import type { Store } from './types';

/**
 * Lock order on MySQL/MariaDB between the refresh pass's batched lease claim (one UPDATE over
 * many rows) and another instance's batch storing its results (one transaction): interleaved on
 * two connections, step by step, as they happen under load.
 */
const NOW = 1_700_000_000_000;
const LEASE_MS = 120_000;
const AHEAD_MS = 600_000;
const ACCESS = 'authorizer_access_token';
const REFRESH = 'authorizer_refresh_token';

describe.each(testTargets().filter((t) => t.name === 'mysql'))(
  'credential locks on $name',
  (target) => {
    let store: Store;
    let handle: MysqlHandle;
    beforeAll(async () => {
      const opened = await openTestStore(target);
      if (opened.handle.dialect !== 'mysql') throw new Error('expected MySQL');
      store = opened.store;
      handle = opened.handle;
    });
    afterAll(() => store.close());

    /** Transactions of this test's database waiting for a row lock (needs PROCESS, as CI has). */
    const lockWaits = async (): Promise<number> => {
      const [rows] = await handle.pool.query(
        `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX t
         JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
        WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()`,
      );
      return Number((rows as { n: unknown }[])[0]?.n);
    };

    it("a claim while another instance stores its batch locks and waits for none of that batch's rows", async () => {
      const name = uniqueName('locks');
      const owners = ['wxa1', 'wxa2'].map((id) => `authorizer:${name}:${id}`);
      // Each authorizer's refresh token row is created before its access token row (as the
      // authorization exchange does): a scan in id order meets it first.
      for (const owner of owners) {
        await store.credentials.put(
          { owner, kind: REFRESH },
          { value: 'r0', expiresAt: 9e15 },
          NOW,
        );
        await store.credentials.put({ owner, kind: ACCESS }, { value: 'a0', expiresAt: NOW }, NOW);
      }
      const claim = (leaseOwner: string) =>
        store.credentials.claimDueLeases(ACCESS, owners, leaseOwner, NOW, LEASE_MS, NOW + AHEAD_MS);
      expect((await claim('hub-a')).map((c) => c.owner).sort()).toEqual([...owners].sort());

      // Instance A stores its batch: the first access token saved, then (held there) its rotated
      // refresh token, and so on, in owner order.
      let proceed = () => {};
      const gate = new Promise<void>((resolve) => {
        proceed = resolve;
      });
      let holding = () => {};
      const held = new Promise<void>((resolve) => {
        holding = resolve;
      });
      const storing = store.credentials.transaction(async (repo) => {
        for (const [i, owner] of owners.entries()) {
          const saved = await repo.saveValue(
            { owner, kind: ACCESS },
            'hub-a',
            { value: `a1-${i}`, expiresAt: NOW + 7_200_000 },
            NOW,
          );
          if (i === 0) {
            holding();
            await gate;
          }
          if (saved) {
            const rotated = { value: `r1-${i}`, expiresAt: 9e15 };
            await repo.put({ owner, kind: REFRESH }, rotated, NOW);
          }
        }
      });
      await held;
      // Instance B's pass claims the same rows meanwhile: it settles, or waits for a row lock.
      let settled = false;
      const claiming = claim('hub-b').finally(() => {
        settled = true;
      });
      while (!settled && (await lockWaits()) === 0) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const waitedForA = !settled;
      proceed();
      const [stored, claimed] = await Promise.allSettled([storing, claiming]);
      // B locks none of the rows A holds (so no lock order can deadlock them): it answers at
      // once, with nothing taken, while A's batch is still open; A's batch is stored whole.
      expect({ waitedForA, claimed }).toEqual({
        waitedForA: false,
        claimed: { status: 'fulfilled', value: [] },
      });
      expect(stored).toEqual({ status: 'fulfilled', value: undefined });
      const access = await store.credentials.getManyOfKind(ACCESS, owners);
      const refresh = await store.credentials.getManyOfKind(REFRESH, owners);
      expect(owners.map((o) => [access.get(o)?.value, refresh.get(o)?.value])).toEqual([
        ['a1-0', 'r1-0'],
        ['a1-1', 'r1-1'],
      ]);
    });

    /** Whether another transaction holds a lock on row `id` (asked without waiting for it). */
    const lockedByAnother = async (id: number): Promise<boolean> => {
      try {
        await handle.pool.query(
          'SELECT id FROM credentials WHERE id = ? LOCK IN SHARE MODE NOWAIT',
          [id],
        );
        return false;
      } catch (err) {
        if ((err as { errno?: unknown }).errno === 1205) return true;
        throw err;
      }
    };

    it('a statement outside a transaction picked as a deadlock victim is run again, not failed', async () => {
      const name = uniqueName('victim');
      const [x, y] = ['wxa1', 'wxa2'].map((id) => `authorizer:${name}:${id}`) as [string, string];
      // x's access row, then y's (x's id is lower), then rows only the other transaction writes.
      for (const owner of [x, y]) {
        await store.credentials.put({ owner, kind: ACCESS }, { value: 'a0', expiresAt: NOW }, NOW);
      }
      for (const owner of [x, y]) {
        await store.credentials.put(
          { owner, kind: REFRESH },
          { value: 'r0', expiresAt: 9e15 },
          NOW,
        );
      }
      const ids = new Map<string, number>();
      const [rows] = await handle.pool.query(
        'SELECT id, owner, kind FROM credentials WHERE owner IN (?, ?)',
        [x, y],
      );
      for (const r of rows as { id: number; owner: string; kind: string }[]) {
        ids.set(`${r.owner}/${r.kind}`, r.id);
      }
      const id = (owner: string, kind: string) => ids.get(`${owner}/${kind}`) ?? 0;
      // Another connection's transaction holds y's access row (and more: the heavier one, so
      // InnoDB rolls back the claim) ...
      const other = await handle.pool.getConnection();
      try {
        await other.query('BEGIN');
        // One row per statement, by primary key: each locks that row only.
        const touch = (rowId: number) =>
          other.query('UPDATE credentials SET updated_at = updated_at + 1 WHERE id = ?', [rowId]);
        for (const rowId of [id(y, ACCESS), id(x, REFRESH), id(y, REFRESH)]) await touch(rowId);
        // ... while the claim locks x's row (first: lower id) and waits for y's ...
        const claiming = store.credentials.claimDueLeases(
          ACCESS,
          [x, y],
          'hub-b',
          NOW,
          LEASE_MS,
          NOW + AHEAD_MS,
        );
        while (!(await lockedByAnother(id(x, ACCESS)))) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        // ... and then asks for x's row, which the claim holds: a deadlock, the claim its victim.
        await touch(id(x, ACCESS));
        await other.query('COMMIT');
        const taken = await claiming;
        expect(taken.map((t) => t.owner).sort()).toEqual([x, y].sort());
      } finally {
        other.release();
      }
    });
  },
);
