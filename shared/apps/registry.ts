import type { Clock } from '../clock';
import { NAME_PATTERN } from '../config/apps';
import { AppError } from '../http/errors';
import type { AppRecord, MerchantRecord, Store } from '../store';

/** How many unknown names an instance remembers at most (least recently asked dropped first). */
export const MISS_CACHE_SIZE = 1_000;
/** How long an unknown name is remembered before the table is asked again. */
export const MISS_TTL_MS = 5_000;

export interface RegistryOptions {
  /** How long a row (enabled or not) is served from memory. */
  ttlMs?: number;
  /** How long an unknown name is remembered ({@link MISS_TTL_MS}). */
  missTtlMs?: number;
  /** How many unknown names are remembered ({@link MISS_CACHE_SIZE}). */
  missCacheSize?: number;
}

/**
 * Per-instance read-through cache of rows that change rarely (at start and through the admin
 * API), so hot routes do not query the table on every request. Rows found are kept for `ttlMs`
 * (their number is bounded by the table). Names come from unauthenticated URLs, so a name that
 * no row could have (not {@link NAME_PATTERN}) is refused without a lookup, and unknown names
 * are remembered only briefly and in a bounded LRU: a flood of made-up names neither grows
 * memory nor reaches the database more than once per name and `missTtlMs`.
 */
export function createRegistry<T extends { enabled: boolean }>(
  load: (name: string) => Promise<T | undefined>,
  what: string,
  clock: Clock,
  opts: RegistryOptions = {},
) {
  const ttlMs = opts.ttlMs ?? 30_000;
  const missTtlMs = opts.missTtlMs ?? MISS_TTL_MS;
  const missCacheSize = opts.missCacheSize ?? MISS_CACHE_SIZE;
  const rows = new Map<string, { row: T; until: number }>();
  // Unknown name → until when it is answered 404 from memory; Map order is least recent first.
  const misses = new Map<string, number>();
  const notFound = (name: string) =>
    new AppError('NOT_FOUND', `no ${what} named "${name.slice(0, 64)}"`);

  /** The row named `name` (enabled or not), or undefined when the table has none. */
  async function lookup(name: string): Promise<T | undefined> {
    const now = clock.now();
    const hit = rows.get(name);
    if (hit !== undefined && hit.until > now) return hit.row;
    const missUntil = misses.get(name);
    if (missUntil !== undefined) {
      misses.delete(name);
      if (missUntil > now) {
        misses.set(name, missUntil);
        return undefined;
      }
    }
    const row = await load(name);
    if (row === undefined) {
      rows.delete(name);
      misses.delete(name);
      misses.set(name, clock.now() + missTtlMs);
      while (misses.size > missCacheSize) {
        const oldest = misses.keys().next();
        if (oldest.done === true) break;
        misses.delete(oldest.value);
      }
      return undefined;
    }
    misses.delete(name);
    rows.set(name, { row, until: clock.now() + ttlMs });
    return row;
  }

  return {
    /** The enabled row named `name` if this instance has it cached, without I/O. */
    cached(name: string): T | undefined {
      const hit = rows.get(name);
      return hit !== undefined && hit.until > clock.now() && hit.row.enabled ? hit.row : undefined;
    },
    /** The enabled row named `name`, or a 404 AppError. */
    async require(name: string): Promise<T> {
      if (!NAME_PATTERN.test(name)) throw notFound(name);
      const row = await lookup(name);
      if (row === undefined || !row.enabled) throw notFound(name);
      return row;
    },
    /** Names held in memory, rows and unknown names together. */
    size(): number {
      return rows.size + misses.size;
    },
    forget(): void {
      rows.clear();
      misses.clear();
    },
  };
}

/** Apps by name, cached per instance. */
export function createAppRegistry(store: Store, clock: Clock, opts: RegistryOptions = {}) {
  return createRegistry<AppRecord>((n) => store.apps.get(n), 'app', clock, opts);
}
export type AppRegistry = ReturnType<typeof createAppRegistry>;

/** WeChat Pay merchants by name, cached per instance. */
export function createMerchantRegistry(store: Store, clock: Clock, opts: RegistryOptions = {}) {
  return createRegistry<MerchantRecord>((n) => store.merchants.get(n), 'merchant', clock, opts);
}
export type MerchantRegistry = ReturnType<typeof createMerchantRegistry>;
