import type { AppsFile } from '../config';
import type { Store } from '../store';

export interface SyncResult {
  apps: number;
  merchants: number;
  disabledApps: number;
  disabledMerchants: number;
}

/**
 * Upserts the apps file into the database and disables (never deletes) file-sourced apps and
 * merchants that are no longer listed. Apps created through the admin API are untouched.
 */
export async function syncAppsFile(store: Store, file: AppsFile, now: number): Promise<SyncResult> {
  for (const app of file.apps) await store.apps.upsert(app, 'file', now);
  for (const m of file.merchants) await store.merchants.upsert(m, 'file', now);
  const disabledApps = await store.apps.disableMissing(
    'file',
    file.apps.map((a) => a.name),
    now,
  );
  const disabledMerchants = await store.merchants.disableMissing(
    'file',
    file.merchants.map((m) => m.name),
    now,
  );
  return {
    apps: file.apps.length,
    merchants: file.merchants.length,
    disabledApps,
    disabledMerchants,
  };
}
