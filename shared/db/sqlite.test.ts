import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqlite, STATEMENT_CACHE_SIZE } from './sqlite';

describe('openSqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxhub-sqlite-'));
  const h = openSqlite(join(dir, 'db.sqlite'));
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens the file in WAL mode with synchronous=FULL and a 5 s busy timeout', () => {
    expect(h.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    // FULL is 2 (https://www.sqlite.org/pragma.html#pragma_synchronous).
    expect(h.sqlite.pragma('synchronous', { simple: true })).toBe(2);
    expect(h.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('keeps a compiled statement per SQL text, handed out again in its default mode', () => {
    h.sqlite.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    h.sqlite.prepare('INSERT INTO t (v) VALUES (?)').run('a');
    const first = h.sqlite.prepare('SELECT id, v FROM t WHERE v = ?');
    expect(first.raw().get('a')).toEqual([1, 'a']);
    const again = h.sqlite.prepare('SELECT id, v FROM t WHERE v = ?');
    expect(again).toBe(first);
    expect(again.get('a')).toEqual({ id: 1, v: 'a' });
  });

  it('keeps at most STATEMENT_CACHE_SIZE statements, dropping the least recently used', () => {
    const zero = h.sqlite.prepare('SELECT 0 AS n');
    const one = h.sqlite.prepare('SELECT 1 AS n');
    for (let i = 2; i <= STATEMENT_CACHE_SIZE; i++) {
      h.sqlite.prepare(`SELECT ${i} AS n`);
      // Used again halfway: now more recent than `SELECT 1`.
      if (i === STATEMENT_CACHE_SIZE / 2) h.sqlite.prepare('SELECT 0 AS n');
    }
    expect(h.sqlite.prepare('SELECT 0 AS n')).toBe(zero);
    const again = h.sqlite.prepare('SELECT 1 AS n');
    expect(again).not.toBe(one);
    expect(again.get()).toEqual({ n: 1 });
  });
});
