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
  },
);
