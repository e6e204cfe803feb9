import type { CosBucketConfig, SmsSenderConfig } from '../config/signing-entries';
import { AppError } from '../http/errors';
import type { CredentialKey, Store } from '../store';
import { unreadableError } from '../store/unreadable';

/**
 * The apps file's SMS senders and COS buckets are kept in the `credentials` table, sealed like
 * every credential (`owner` `sms:{name}` / `cos:{name}`): each function syncs its copy of the
 * file at start, and the routes read them from there.
 */
export const smsSenderKey = (name: string): CredentialKey => ({
  owner: `sms:${name}`,
  kind: 'sms_sender',
});
export const cosBucketKey = (name: string): CredentialKey => ({
  owner: `cos:${name}`,
  kind: 'cos_bucket',
});

/** Never due: the refresh pass selects rows by expiry, and these do not expire. */
const NEVER = 253_402_300_799_000;
const SYNC_OWNER = 'apps-file-sync';

/** Stores `entry` (sealed) unless the stored one is the same; another sync under way wins. */
async function saveEntry(store: Store, key: CredentialKey, entry: object, now: number) {
  const value = JSON.stringify(entry);
  const stored = await store.credentials.get(key);
  if (stored?.value === value) return;
  await store.credentials.ensure(key, now);
  if (!(await store.credentials.claimLease(key, SYNC_OWNER, now, 10_000))) return;
  const saved = await store.credentials.saveValue(
    key,
    SYNC_OWNER,
    { value, expiresAt: NEVER },
    now,
  );
  if (!saved) await store.credentials.releaseLease(key, SYNC_OWNER);
}

/** Writes the file's senders and buckets (an entry the file no longer lists is left as it is). */
export async function syncSigningEntries(
  store: Store,
  file: { sms?: SmsSenderConfig[]; cos?: CosBucketConfig[] },
  now: number,
): Promise<void> {
  for (const s of file.sms ?? []) await saveEntry(store, smsSenderKey(s.name), s, now);
  for (const b of file.cos ?? []) await saveEntry(store, cosBucketKey(b.name), b, now);
}

async function readEntry<T>(store: Store, key: CredentialKey, what: string, name: string) {
  const row = await store.credentials.get(key);
  if (row?.unreadable !== undefined) throw unreadableError(row.unreadable);
  if (row?.value === undefined) throw new AppError('NOT_FOUND', `no ${what} named "${name}"`);
  return JSON.parse(row.value) as T;
}

/** The SMS sender `name` of the apps file; 404 when there is none. */
export const requireSmsSender = (store: Store, name: string) =>
  readEntry<SmsSenderConfig>(store, smsSenderKey(name), 'SMS sender', name);

/** The COS bucket `name` of the apps file; 404 when there is none. */
export const requireCosBucket = (store: Store, name: string) =>
  readEntry<CosBucketConfig>(store, cosBucketKey(name), 'COS bucket', name);
