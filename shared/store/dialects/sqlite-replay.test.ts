import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../crypto/secret-box';
import type { SqliteHandle } from '../../db/client';
import { migrateSqlite, openSqlite } from '../../db/sqlite';
import { TEST_SECRET_KEY, testMessage } from '../testing';
import { SIGNATURE_GRACE_MS, SignatureReplayError, type Store, type UsedSignature } from '../types';
import { createSqliteStore, sqliteDb } from './sqlite';
import { sqliteSignatureMemory } from './sqlite-replay';

const NOW = 1_800_000_000_000;
const MIGRATIONS = 'drizzle/sqlite';

const message = (app: string, dedupKey: string) => testMessage(app, dedupKey, 'hello', NOW);

const signature = (sig: string, body: string): UsedSignature => ({
  signature: sig.repeat(40).slice(0, 40),
  bodyHash: body.repeat(64).slice(0, 64),
  expiresAt: NOW + 300_000,
});

const count = (h: SqliteHandle, table: string): number =>
  (h.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('the SQLite replay memory (signatures kept in the process, logged in the file)', () => {
  let dir: string;
  const file = () => join(dir, 'hub.sqlite');
  const open: { h: SqliteHandle; store: Store }[] = [];
  /** A process of its own on the shared file: its own connection and store. */
  const processOnFile = () => {
    const h = openSqlite(file());
    migrateSqlite(h, MIGRATIONS);
    const store = createSqliteStore(h, createSecretBox([TEST_SECRET_KEY]));
    open.push({ h, store });
    return { h, store };
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wxhub-replay-'));
  });
  afterEach(async () => {
    for (const { store } of open.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a signature another process kept with another body, and takes WeChat's retry", async () => {
    const a = processOnFile();
    const b = processOnFile();
    expect(
      (await a.store.messages.insert(message('oa', 'm1'), [], NOW, signature('a', 'x'))).inserted,
    ).toBe(true);
    // B's map is loaded before A's next push, so A's push reaches B only through the log.
    expect(
      (await b.store.messages.insert(message('oa', 'm0'), [], NOW, signature('0', 'w'))).inserted,
    ).toBe(true);
    expect(
      (await a.store.messages.insert(message('oa', 'm2'), [], NOW, signature('b', 'y'))).inserted,
    ).toBe(true);

    await expect(
      b.store.messages.insert(message('oa', 'm3'), [], NOW, signature('b', 'z')),
    ).rejects.toBeInstanceOf(SignatureReplayError);
    expect(await b.store.messages.get('oa', 'm3')).toBeUndefined();
    // The same body again is the retry of the stored push.
    const retry = await b.store.messages.insert(message('oa', 'm2'), [], NOW, signature('b', 'y'));
    expect(retry.inserted).toBe(false);
    // And back: what B kept, A refuses.
    await expect(
      a.store.messages.insert(message('oa', 'm4'), [], NOW, signature('0', 'v')),
    ).rejects.toBeInstanceOf(SignatureReplayError);
    // The same signature under another app is that app's own.
    const other = await a.store.messages.insert(message('mp', 'm1'), [], NOW, signature('b', 'q'));
    expect(other.inserted).toBe(true);
    // Kept in the log, one row per signature; the unique-keyed table is the servers'.
    expect(count(a.h, 'callback_signature_log')).toBe(4);
    expect(count(a.h, 'callback_signatures')).toBe(0);
  });

  it('is one memory for the stores opened on one connection', async () => {
    const { h, store } = processOnFile();
    const second = createSqliteStore(h, createSecretBox([TEST_SECRET_KEY]));
    // Both have looked before the signature is kept.
    await second.messages.insert(message('oa', 'm0'), [], NOW, signature('0', 'w'));
    expect(
      (await store.messages.insert(message('oa', 'm1'), [], NOW, signature('a', 'x'))).inserted,
    ).toBe(true);
    await expect(
      second.messages.insert(message('oa', 'm2'), [], NOW, signature('a', 'y')),
    ).rejects.toBeInstanceOf(SignatureReplayError);
  });

  it('remembers, after a restart, the signatures logged before it', async () => {
    const first = processOnFile();
    await first.store.messages.insert(message('oa', 'm1'), [], NOW, signature('a', 'x'));
    await first.store.close();
    open.splice(0);
    const again = processOnFile();
    await expect(
      again.store.messages.insert(message('oa', 'm2'), [], NOW, signature('a', 'y')),
    ).rejects.toBeInstanceOf(SignatureReplayError);
    expect(
      (await again.store.messages.insert(message('oa', 'm1'), [], NOW, signature('a', 'x')))
        .inserted,
    ).toBe(false);
  });

  it('does not keep a signature whose transaction was rolled back, nor mistake the row that reuses its id', async () => {
    const { h } = processOnFile();
    const db = sqliteDb(h);
    const memory = sqliteSignatureMemory(h.sqlite);
    const other = processOnFile();
    const otherDb = sqliteDb(other.h);
    const otherMemory = sqliteSignatureMemory(other.h.sqlite);
    {
      await expect(
        db.transaction(async (tx) => {
          await memory.remember(tx, 'oa', signature('a', 'x'), NOW);
          throw new Error('the message could not be stored');
        }),
      ).rejects.toThrow('the message could not be stored');
      expect(count(h, 'callback_signature_log')).toBe(0);
      // Another process logs another signature: SQLite gives its row the rolled-back row's id.
      await otherDb.transaction((tx) => otherMemory.remember(tx, 'oa', signature('c', 'z'), NOW));
      // The first signature was never kept: another body is no replay.
      await db.transaction((tx) => memory.remember(tx, 'oa', signature('a', 'y'), NOW));
      // The other process's signature is known here, though its row has the id the map had.
      await expect(
        db.transaction((tx) => memory.remember(tx, 'oa', signature('c', 'w'), NOW)),
      ).rejects.toBeInstanceOf(SignatureReplayError);
      // And a signature seen twice in one batch is its own retry the second time.
      const both = await Promise.allSettled([
        db.transaction((tx) => memory.remember(tx, 'oa', signature('d', 'x'), NOW)),
        db.transaction((tx) => memory.remember(tx, 'oa', signature('d', 'x'), NOW)),
        db.transaction((tx) => memory.remember(tx, 'oa', signature('d', 'y'), NOW)),
      ]);
      expect(both.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
      expect(count(h, 'callback_signature_log')).toBe(3);
    }
  });

  it('is asked only inside the write transaction of a push', async () => {
    const { h } = processOnFile();
    const memory = sqliteSignatureMemory(h.sqlite);
    await expect(memory.remember(sqliteDb(h), 'oa', signature('a', 'x'), NOW)).rejects.toThrow(
      'only inside its write transaction',
    );
  });

  it('forgets what expired: purged from the log and the process, and as later pushes pass it', async () => {
    const { h, store } = processOnFile();
    await store.messages.insert(message('oa', 'm1'), [], NOW, signature('a', 'x'));
    await store.messages.insert(message('oa', 'm2'), [], NOW, {
      ...signature('b', 'x'),
      expiresAt: NOW + 600_000,
    });
    expect(await store.messages.purgeSignatures(NOW + 300_001, 100)).toBe(1);
    expect(count(h, 'callback_signature_log')).toBe(1);
    expect(
      (await store.messages.insert(message('oa', 'm3'), [], NOW, signature('a', 'y'))).inserted,
    ).toBe(true);
    // Expired, but a push received within the grace after (one accepted just before the expiry,
    // that waited for the write lock) still finds it.
    await expect(
      store.messages.insert(message('oa', 'm4'), [], NOW + 600_000 + SIGNATURE_GRACE_MS, {
        ...signature('b', 'z'),
        expiresAt: NOW + 900_000,
      }),
    ).rejects.toBeInstanceOf(SignatureReplayError);
    // Past the grace by the time of a later push (no purge yet): forgotten.
    expect(
      (
        await store.messages.insert(message('oa', 'm5'), [], NOW + 600_001 + SIGNATURE_GRACE_MS, {
          ...signature('b', 'z'),
          expiresAt: NOW + 900_000,
        })
      ).inserted,
    ).toBe(true);
  });

  it('a push that waited for the write lock still finds the signature it replays, though later pushes went first', async () => {
    const { store } = processOnFile();
    const expiry = NOW + 300_000;
    await store.messages.insert(message('oa', 'm1'), [], NOW, signature('a', 'x'));
    // A push received a few seconds after the replayed signature expired is stored first...
    await store.messages.insert(message('oa', 'm2'), [], expiry + 5_000, signature('c', 'x'));
    // ...then the replay, accepted at the expiry and held up meanwhile, reaches the store.
    await expect(
      store.messages.insert(message('oa', 'm3'), [], expiry, signature('a', 'y')),
    ).rejects.toBeInstanceOf(SignatureReplayError);
  });
});

describe('migration 0016 (the SQLite replay memory moves to the log)', () => {
  it('carries the signatures remembered before into the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxhub-replay-migrate-'));
    try {
      // The migrations as they were before 0016.
      const before = join(dir, 'before');
      cpSync(MIGRATIONS, before, { recursive: true });
      const journalFile = join(before, 'meta', '_journal.json');
      const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as {
        entries: { tag: string }[];
      };
      journal.entries = journal.entries.filter((e) => e.tag < '0016');
      writeFileSync(journalFile, JSON.stringify(journal));
      const h = openSqlite(join(dir, 'hub.sqlite'));
      try {
        migrateSqlite(h, before);
        h.sqlite
          .prepare(
            'INSERT INTO callback_signatures (app, signature, body_hash, expires_at) VALUES (?, ?, ?, ?)',
          )
          .run('oa', 'a'.repeat(40), 'x'.repeat(64), NOW + 300_000);
        migrateSqlite(h, MIGRATIONS);
        expect(count(h, 'callback_signatures')).toBe(0);
        expect(
          h.sqlite
            .prepare('SELECT app, signature, body_hash, expires_at FROM callback_signature_log')
            .all(),
        ).toEqual([
          {
            app: 'oa',
            signature: 'a'.repeat(40),
            body_hash: 'x'.repeat(64),
            expires_at: NOW + 300_000,
          },
        ]);
        const store = createSqliteStore(h, createSecretBox([TEST_SECRET_KEY]));
        await expect(
          store.messages.insert(message('oa', 'm1'), [], NOW, signature('a', 'y')),
        ).rejects.toBeInstanceOf(SignatureReplayError);
      } finally {
        await h.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
