import type { Clock } from '../clock';
import { AppError } from '../http/errors';
import type { AppRecord, MerchantRecord, Store } from '../store';

/**
 * Per-instance read-through cache of rows that change rarely (at start and through the admin
 * API), so hot routes do not query the table on every request.
 */
function createRegistry<T extends { enabled: boolean }>(
  load: (name: string) => Promise<T | undefined>,
  what: string,
  clock: Clock,
  ttlMs: number,
) {
  const cache = new Map<string, { row: T | undefined; until: number }>();
  return {
    /** The enabled row named `name` if this instance has it cached, without I/O. */
    cached(name: string): T | undefined {
      const hit = cache.get(name);
      return hit !== undefined && hit.until > clock.now() && hit.row?.enabled ? hit.row : undefined;
    },
    /** The enabled row named `name`, or a 404 AppError. */
    async require(name: string): Promise<T> {
      let hit = cache.get(name);
      if (hit === undefined || hit.until <= clock.now()) {
        hit = { row: await load(name), until: clock.now() + ttlMs };
        cache.set(name, hit);
      }
      if (hit.row === undefined || !hit.row.enabled) {
        throw new AppError('NOT_FOUND', `no ${what} named "${name.slice(0, 64)}"`);
      }
      return hit.row;
    },
    forget(): void {
      cache.clear();
    },
  };
}

/** Apps by name, cached per instance. */
export function createAppRegistry(store: Store, clock: Clock, ttlMs = 30_000) {
  return createRegistry<AppRecord>((n) => store.apps.get(n), 'app', clock, ttlMs);
}
export type AppRegistry = ReturnType<typeof createAppRegistry>;

/** WeChat Pay merchants by name, cached per instance. */
export function createMerchantRegistry(store: Store, clock: Clock, ttlMs = 30_000) {
  return createRegistry<MerchantRecord>((n) => store.merchants.get(n), 'merchant', clock, ttlMs);
}
export type MerchantRegistry = ReturnType<typeof createMerchantRegistry>;
