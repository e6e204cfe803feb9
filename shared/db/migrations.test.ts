import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, openTestStore, testTargets } from '../store/testing';
import { type DatabaseHandle, migrateDatabase, openDatabase } from './client';
import { isCurrent, newestMigration } from './migrations';

interface Journal {
  entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[];
}

/** A copy of the committed migrations that a test may change. */
function copyMigrations(): string {
  const root = mkdtempSync(join(tmpdir(), 'wxhub-migrations-'));
  cpSync(MIGRATIONS_DIR, root, { recursive: true });
  return root;
}

function journalOf(folder: string): Journal {
  return JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as Journal;
}

/** Appends a migration `tag` with `sql` to the folder's journal, one second after the newest. */
function addMigration(folder: string, tag: string, sql: string): void {
  const journal = journalOf(folder);
  const last = journal.entries[journal.entries.length - 1];
  if (last === undefined) throw new Error('empty journal');
  journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag });
  writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify(journal));
  writeFileSync(join(folder, `${tag}.sql`), sql);
}

describe('migration journal', () => {
  it('reads the newest migration time, and nothing from a missing or odd journal', () => {
    const root = copyMigrations();
    try {
      const sqlite = join(root, 'sqlite');
      const newest = Math.max(...journalOf(sqlite).entries.map((e) => e.when));
      expect(newestMigration(sqlite)).toBe(newest);
      expect(newestMigration(join(root, 'nowhere'))).toBeUndefined();
      writeFileSync(join(sqlite, 'meta', '_journal.json'), '{"entries":[{"when":"soon"}]}');
      expect(newestMigration(sqlite)).toBeUndefined();
      writeFileSync(join(sqlite, 'meta', '_journal.json'), '{"entries":[]}');
      expect(newestMigration(sqlite)).toBeUndefined();
      writeFileSync(join(sqlite, 'meta', '_journal.json'), 'not json');
      expect(newestMigration(sqlite)).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('calls a database current only when its last applied migration is the newest or later', () => {
    const folder = join(MIGRATIONS_DIR, 'sqlite');
    const newest = newestMigration(folder) ?? Number.NaN;
    expect(isCurrent(newest, folder)).toBe(true);
    expect(isCurrent(String(newest), folder)).toBe(true); // MySQL bigint columns may read as text
    expect(isCurrent(newest + 1, folder)).toBe(true);
    expect(isCurrent(newest - 1, folder)).toBe(false);
    expect(isCurrent(undefined, folder)).toBe(false);
    expect(isCurrent(null, folder)).toBe(false);
    expect(isCurrent('garbage', folder)).toBe(false);
    expect(isCurrent(newest, join(folder, 'nowhere'))).toBe(false);
  });
});

describe.each(testTargets())('migrations on $name', (target) => {
  let root: string;
  let h: DatabaseHandle;
  const folder = () => join(root, target.name);
  const tableExists = async (name: string): Promise<boolean> => {
    if (h.dialect === 'sqlite') {
      return (
        h.sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?").get(name) !==
        undefined
      );
    }
    const [rows] = await h.pool.query(
      'SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
      [name],
    );
    return Array.isArray(rows) && rows.length === 1;
  };

  beforeAll(async () => {
    // A database of this file's own, migrated to the committed schema.
    const { store } = await openTestStore(target);
    await store.close();
    root = copyMigrations();
    h = await openDatabase(target.config);
  });
  afterAll(async () => {
    await h?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('does nothing more on a current database: the migration files are not even read', async () => {
    for (const e of journalOf(folder()).entries) rmSync(join(folder(), `${e.tag}.sql`));
    await expect(migrateDatabase(h, root)).resolves.toBeUndefined();
  });

  it('applies a migration newer than the last applied one', async () => {
    cpSync(join(MIGRATIONS_DIR, target.name), folder(), { recursive: true });
    expect(await tableExists('wxhub_migration_probe')).toBe(false);
    addMigration(folder(), '9999_probe', 'CREATE TABLE wxhub_migration_probe (id integer);');
    await migrateDatabase(h, root);
    expect(await tableExists('wxhub_migration_probe')).toBe(true);
    // And now that one is the newest applied: current again.
    rmSync(join(folder(), '9999_probe.sql'));
    await expect(migrateDatabase(h, root)).resolves.toBeUndefined();
  });

  const url = target.config.dialect === 'mysql' ? target.config.url : undefined;
  if (url === undefined) return;

  it('on a current database does not wait for another instance holding the migration lock', async () => {
    const holder = await createConnection(url);
    try {
      await holder.query("SELECT GET_LOCK('wxhub_migrate', 5)");
      // Waiting for the lock would take its 60 s timeout; a current database never asks for it.
      const outcome = await Promise.race([
        migrateDatabase(h, root).then(() => 'done'),
        new Promise((r) => setTimeout(() => r('waited for the lock'), 10_000)),
      ]);
      expect(outcome).toBe('done');
    } finally {
      await holder.query("SELECT RELEASE_LOCK('wxhub_migrate')");
      await holder.end();
    }
  }, 20_000);
});
