import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DrizzleMySQLSnapshotJSON,
  type DrizzleSQLiteSnapshotJSON,
  generateMySQLDrizzleJson,
  generateMySQLMigration,
  generateSQLiteDrizzleJson,
  generateSQLiteMigration,
} from 'drizzle-kit/api';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../store/testing';
import * as mysql from './mysql';
import * as sqlite from './sqlite';

/** The snapshot drizzle-kit wrote with the newest committed migration of `dialect`. */
function newestSnapshot<T>(dialect: 'mysql' | 'sqlite'): T {
  const meta = join(MIGRATIONS_DIR, dialect, 'meta');
  const journal = JSON.parse(readFileSync(join(meta, '_journal.json'), 'utf8')) as {
    entries: { idx: number }[];
  };
  const last = journal.entries[journal.entries.length - 1];
  if (last === undefined) throw new Error(`no ${dialect} migration`);
  const file = `${String(last.idx).padStart(4, '0')}_snapshot.json`;
  return JSON.parse(readFileSync(join(meta, file), 'utf8')) as T;
}

// `npm run db:generate` would write a migration exactly when these differ.
describe('schema against the committed migrations', () => {
  it('MySQL: the tables need no new migration', async () => {
    const committed = newestSnapshot<DrizzleMySQLSnapshotJSON>('mysql');
    const current = await generateMySQLDrizzleJson(mysql, committed.id);
    expect(await generateMySQLMigration(committed, current)).toEqual([]);
  });

  it('SQLite: the tables need no new migration', async () => {
    const committed = newestSnapshot<DrizzleSQLiteSnapshotJSON>('sqlite');
    const current = await generateSQLiteDrizzleJson(sqlite, committed.id);
    expect(await generateSQLiteMigration(committed, current)).toEqual([]);
  });
});
