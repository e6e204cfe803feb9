import type { Clock } from '../clock';
import { AppError } from '../http/errors';
import type { AppRecord, Store } from '../store';

/**
 * Per-instance read-through cache of app rows (they change rarely: at start and through the
 * admin API), so hot routes do not query the apps table on every request.
 */
export function createAppRegistry(store: Store, clock: Clock, ttlMs = 30_000) {
  const cache = new Map<string, { app: AppRecord | undefined; until: number }>();
  return {
    /** The enabled app named `name` if this instance has it cached, without I/O. */
    cached(name: string): AppRecord | undefined {
      const hit = cache.get(name);
      return hit !== undefined && hit.until > clock.now() && hit.app?.enabled ? hit.app : undefined;
    },
    /** The enabled app named `name`, or a 404 AppError. */
    async require(name: string): Promise<AppRecord> {
      let hit = cache.get(name);
      if (hit === undefined || hit.until <= clock.now()) {
        hit = { app: await store.apps.get(name), until: clock.now() + ttlMs };
        cache.set(name, hit);
      }
      if (hit.app === undefined || !hit.app.enabled) {
        throw new AppError('NOT_FOUND', `no app named "${name}"`);
      }
      return hit.app;
    },
    forget(): void {
      cache.clear();
    },
  };
}
export type AppRegistry = ReturnType<typeof createAppRegistry>;
