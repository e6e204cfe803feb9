import { AppError } from '../http/errors';

// Query-string readers of the admin routes: an empty value counts as not given (`?app=`), a bad
// one is a 400 naming the parameter and the rule, never echoing the value.

export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 200;

/** A non-empty string parameter of at most `max` characters, or undefined. */
export function text(v: string | undefined, name: string, max = 128): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (v.length > max)
    throw new AppError('BAD_REQUEST', `${name} must be at most ${max} characters`);
  return v;
}

/** A whole number within [min, max], or `dflt` when not given. */
export function whole(
  v: string | undefined,
  name: string,
  min: number,
  max: number,
  dflt?: number,
): number | undefined {
  if (v === undefined || v === '') return dflt;
  const n = /^\d{1,15}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new AppError('BAD_REQUEST', `${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** An ISO-8601 time (`2026-01-02T03:04:05Z`) as epoch ms, or undefined. */
export function time(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)
    ? Date.parse(v)
    : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new AppError(
      'BAD_REQUEST',
      `${name} must be an ISO-8601 time such as 2026-01-02T03:04:05Z`,
    );
  }
  return ms;
}

/** A row id from a path (`/messages/{id}`); 404 for anything else (no such row). */
export function rowId(v: string, what: string): number {
  const n = /^[1-9]\d{0,15}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new AppError('NOT_FOUND', `no ${what} ${v.slice(0, 32)}`);
  return n;
}

/** The page size (`limit`) and cursor (`before`) of a newest-first list. */
export function page(q: { limit: string | undefined; before: string | undefined }) {
  return {
    limit: whole(q.limit, 'limit', 1, PAGE_MAX, PAGE_DEFAULT) ?? PAGE_DEFAULT,
    before: whole(q.before, 'before', 1, Number.MAX_SAFE_INTEGER),
  };
}

/** `next` of a page: the `before` cursor of the following one, or null after the last. */
export function nextCursor(rows: { id: number }[], limit: number): number | null {
  const last = rows.at(-1);
  return rows.length === limit && last !== undefined ? last.id : null;
}
