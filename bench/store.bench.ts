import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import { createSecretBox } from '../shared/crypto/secret-box';
import type { DatabaseHandle } from '../shared/db/client';
import { describeDatabase, migrateDatabase, openDatabase } from '../shared/db/client';
import { createStore } from '../shared/store/index';
import type { TestTarget } from '../shared/store/testing';
import { MIGRATIONS_DIR, TEST_SECRET_KEY, uniqueName } from '../shared/store/testing';
import type { CredentialKey, Store } from '../shared/store/types';
import type { Baseline, Bench, BenchContext, BenchResult } from './lib';
import { formatOps, measure, measureConcurrent, ratioText } from './lib';
import { benchTargets } from './setup';

/** Concurrent claimers in the contended lease variant (MySQL only), one connection each. */
const CLAIMERS = 8;
const LEASE_MS = 10_000;

/** A bare `SELECT 1` on the handle's own connection: statement prepared once for SQLite. */
function selectOne(h: DatabaseHandle): () => unknown {
  if (h.dialect === 'sqlite') {
    const stmt = h.sqlite.prepare('SELECT 1');
    return () => stmt.get();
  }
  const { pool } = h;
  return () => pool.query('SELECT 1');
}

async function serverVersion(h: DatabaseHandle): Promise<string> {
  if (h.dialect === 'sqlite') {
    const row = h.sqlite.prepare('SELECT sqlite_version() AS v').get() as { v: string };
    return `SQLite ${row.v}`;
  }
  const [rows] = await h.pool.query<RowDataPacket[]>('SELECT VERSION() AS v');
  return `server ${String(rows[0]?.v ?? 'unknown')}`;
}

/** A credential holding a value, as the token service leaves it after a refresh. */
async function seedCredential(store: Store, key: CredentialKey, now: number): Promise<void> {
  const setupOwner = 'bench-setup';
  await store.credentials.ensure(key, now);
  if (!(await store.credentials.claimLease(key, setupOwner, now, LEASE_MS))) {
    throw new Error(`could not claim the lease of ${key.owner}/${key.kind}`);
  }
  const value = { value: randomBytes(96).toString('base64url'), expiresAt: now + 7_200_000 };
  if (!(await store.credentials.saveValue(key, setupOwner, value, now))) {
    throw new Error(`could not save a value for ${key.owner}/${key.kind}`);
  }
  const saved = await store.credentials.get(key);
  if (saved?.value !== value.value) throw new Error('the seeded credential does not read back');
}

async function benchTarget(target: TestTarget, ctx: BenchContext): Promise<BenchResult[]> {
  const box = createSecretBox([TEST_SECRET_KEY]);
  // One connection: the baseline and the store calls share it.
  const handle = await openDatabase(target.config, { poolSize: 1 });
  const claimerHandles: DatabaseHandle[] = [];
  const owner = uniqueName('bench');
  const results: BenchResult[] = [];
  const record = (bench: string, opsPerSec: number, baseline?: Baseline): void => {
    results.push({ bench, target: target.name, opsPerSec, baseline });
    const ratio = baseline === undefined ? '' : `, ratio ${ratioText(opsPerSec, baseline)}`;
    ctx.log(`${target.name}: ${bench}: ${formatOps(opsPerSec)} ops/s${ratio}`);
  };

  try {
    await migrateDatabase(handle, MIGRATIONS_DIR);
    const store = await createStore(handle, box);
    ctx.log(`${target.name}: ${describeDatabase(target.config)}, ${await serverVersion(handle)}`);

    // 1. Baseline: bare SELECT 1 on the same connection.
    const baseline: Baseline = {
      name: 'SELECT 1',
      opsPerSec: await measure(selectOne(handle), ctx),
    };
    record('SELECT 1 (baseline)', baseline.opsPerSec);

    // 2. Credential read of a row that has a value (decrypted on every read).
    const readKey: CredentialKey = { owner, kind: 'access_token' };
    await seedCredential(store, readKey, Date.now());
    record(
      'credentials.get (with value)',
      await measure(() => store.credentials.get(readKey), ctx),
      baseline,
    );

    // 3. Lease claim rate: one op = claimLease + releaseLease, uncontended.
    const leaseKey: CredentialKey = { owner, kind: 'lease' };
    await store.credentials.ensure(leaseKey, Date.now());
    const leaseOwner = `${owner}-solo`;
    record(
      'lease claim+release',
      await measure(async () => {
        if (!(await store.credentials.claimLease(leaseKey, leaseOwner, Date.now(), LEASE_MS))) {
          throw new Error('an uncontended lease claim failed');
        }
        await store.credentials.releaseLease(leaseKey, leaseOwner);
      }, ctx),
      baseline,
    );

    // 3b. Contended (MySQL only): claimers on separate pools hammer the same key.
    if (target.name === 'mysql') {
      const handles = await Promise.all(
        Array.from({ length: CLAIMERS }, () => openDatabase(target.config, { poolSize: 1 })),
      );
      claimerHandles.push(...handles);
      const stores = await Promise.all(handles.map((h) => createStore(h, box)));
      const claimers = stores.map((s, i) => {
        const me = `${owner}-c${i}`;
        return async (): Promise<boolean> => {
          const won = await s.credentials.claimLease(leaseKey, me, Date.now(), LEASE_MS);
          if (won) await s.credentials.releaseLease(leaseKey, me);
          return won;
        };
      });
      const rate = await measureConcurrent(claimers, ctx);
      record(
        `lease claim, ${CLAIMERS} contended: successful claims`,
        rate.successesPerSec,
        baseline,
      );
      record(`lease claim, ${CLAIMERS} contended: attempts`, rate.attemptsPerSec, baseline);
    }
  } finally {
    if (handle.dialect === 'mysql') {
      // Don't leave rows behind in a shared database: a value-less one would look due to a refresher.
      await handle.pool
        .execute('DELETE FROM credentials WHERE owner = ?', [owner])
        .catch((e: unknown) => ctx.log(`${target.name}: cleanup failed: ${String(e)}`));
    }
    await Promise.all(claimerHandles.map((h) => h.close()));
    await handle.close();
  }
  return results;
}

/** Credential read throughput and lease claim rate per store dialect, against `SELECT 1`. */
export const storeBench: Bench = {
  name: 'store',
  async run(ctx) {
    const { targets: list, cleanup } = benchTargets(ctx);
    const results: BenchResult[] = [];
    try {
      for (const target of list) {
        try {
          results.push(...(await benchTarget(target, ctx)));
        } catch (e) {
          // Report the other targets anyway; the run still exits non-zero.
          ctx.log(`${target.name}: FAILED: ${e instanceof Error ? e.message : String(e)}`);
          process.exitCode = 1;
        }
      }
    } finally {
      cleanup();
    }
    return results;
  },
};
