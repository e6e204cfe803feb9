import type { MySqlRawQueryResult } from 'drizzle-orm/mysql2';

/** Rows matched by an UPDATE/DELETE (mysql2 sets CLIENT_FOUND_ROWS, so matched, not changed). */
export function affected(result: MySqlRawQueryResult): number {
  return result[0].affectedRows;
}

/** True for MySQL's duplicate-key error, also when Drizzle wraps the driver error. */
export function isDuplicateKey(err: unknown): boolean {
  for (let e: unknown = err; typeof e === 'object' && e !== null; ) {
    if ('code' in e && e.code === 'ER_DUP_ENTRY') return true;
    e = 'cause' in e ? e.cause : undefined;
  }
  return false;
}
