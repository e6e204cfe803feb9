import type { AppsFile } from '../config';
import type { Store } from '../store';
import { syncSigningEntries } from './signing-entries';

export interface SyncResult {
  apps: number;
  merchants: number;
  /** Entries of the file written with `"enabled": false`. */
  disabledApps: number;
  disabledMerchants: number;
}

/**
 * Merges the apps file into the database: each entry is inserted or updated, enabled unless it
 * says `"enabled": false`. An app or merchant the file does not list is left as it is (never
 * disabled, never deleted): every SCF function syncs its own copy of the file at cold start, so
 * one function redeployed with an older file must not switch apps off ({@link absentFromFile}
 * names them for the start-up log).
 */
export async function syncAppsFile(store: Store, file: AppsFile, now: number): Promise<SyncResult> {
  for (const app of file.apps) await store.apps.upsert(app, 'file', now);
  for (const m of file.merchants) await store.merchants.upsert(m, 'file', now);
  await syncSigningEntries(store, file, now);
  return {
    apps: file.apps.length,
    merchants: file.merchants.length,
    disabledApps: file.apps.filter((a) => a.enabled === false).length,
    disabledMerchants: file.merchants.filter((m) => m.enabled === false).length,
  };
}

/** The names of `stored` rows that `listed` (the file's entries) leaves out. */
export function absentFromFile(stored: { name: string }[], listed: string[]): string[] {
  const names = new Set(listed);
  return stored.map((s) => s.name).filter((n) => !names.has(n));
}
