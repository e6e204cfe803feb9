import type { AppsFile } from '../config';
import type { Store } from '../store';

export interface SyncResult {
  apps: number;
  merchants: number;
  /** Entries of the file written with `"enabled": false`. */
  disabledApps: number;
  disabledMerchants: number;
  /** Names in the database that the file does not list (left as they are). */
  absentApps: string[];
  absentMerchants: string[];
}

const absent = (stored: { name: string }[], listed: { name: string }[]) => {
  const names = new Set(listed.map((e) => e.name));
  return stored.map((s) => s.name).filter((n) => !names.has(n));
};

/**
 * Merges the apps file into the database: each entry is inserted or updated, enabled unless it
 * says `"enabled": false`. An app or merchant the file does not list is left as it is (never
 * disabled, never deleted): every SCF function syncs its own copy of the file at cold start, so
 * one function redeployed with an older file must not switch apps off. Those names are returned
 * for the start-up log.
 */
export async function syncAppsFile(store: Store, file: AppsFile, now: number): Promise<SyncResult> {
  for (const app of file.apps) await store.apps.upsert(app, 'file', now);
  for (const m of file.merchants) await store.merchants.upsert(m, 'file', now);
  const [apps, merchants] = await Promise.all([store.apps.list(), store.merchants.list()]);
  return {
    apps: file.apps.length,
    merchants: file.merchants.length,
    disabledApps: file.apps.filter((a) => a.enabled === false).length,
    disabledMerchants: file.merchants.filter((m) => m.enabled === false).length,
    absentApps: absent(apps, file.apps),
    absentMerchants: absent(merchants, file.merchants),
  };
}
