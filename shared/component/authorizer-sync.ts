import { randomBytes } from 'node:crypto';
import { AppError } from '../http/errors';
import type { AppRecord, AuthorizerRecord, CredentialKey } from '../store';
import { appOwner } from '../tokens/app-tokens';
import {
  AUTHORIZER_REFRESH_KIND,
  AUTHORIZER_STATUS_KIND,
  AUTHORIZER_TOKEN_KIND,
  authorizerOwner,
  NO_EXPIRY,
} from './authorizers';
import { requireComponent } from './component';
import { authorizerListPages, type DirectoryDeps, type ListedAuthorizer } from './directory';

/** Credential kind of the sync lease row (owner `app:<name>`; its value is only a label). */
export const SYNC_LEASE_KIND = 'authorizer_sync';
/** How long a sync holds its lease without progress; renewed after every page. */
const SYNC_LEASE_MS = 120_000;
/** Status value of an authorizer known from the list (no code exchanged by this hub). */
const LISTED = 'authorized:listed';

/** What a sync did: authorizers new to the hub, ones changed, WeChat's total. */
export interface SyncSummary {
  added: number;
  updated: number;
  total: number;
  /** Listed items that carried no `refresh_token` (counted, not an error). */
  withoutRefreshToken: number;
}

/**
 * Pages `api_get_authorizer_list` (500 a call, one page in memory at a time) and brings the hub in
 * line: an authorizer it lacks is added with its refresh token (sealed), a refresh token it lost
 * is recovered, one it holds as revoked but WeChat lists as authorized after that revocation
 * (`auth_time`) is authorized again. A refresh token it holds is never replaced (it may be a newer
 * rotation than the listed one). One sync per component at a time (a lease): a second one answers
 * 409 `CONFLICT`. Authorizers the list lacks are left as they are (a 61003 on their next refresh
 * confirms and revokes them).
 */
export async function syncAuthorizers(
  deps: DirectoryDeps & { instanceId: string },
  app: AppRecord,
) {
  requireComponent(app);
  const creds = deps.store.credentials;
  const lease: CredentialKey = { owner: appOwner(app), kind: SYNC_LEASE_KIND };
  const holder = `${deps.instanceId}:${randomBytes(6).toString('hex')}`;
  if ((await creds.get(lease))?.expiresAt !== NO_EXPIRY) {
    // A far-future expiry keeps the row out of the refresh pass's due list.
    await creds.ensure(lease, deps.clock.now());
    await creds.put(lease, { value: 'sync', expiresAt: NO_EXPIRY }, deps.clock.now());
  }
  if (!(await creds.claimLease(lease, holder, deps.clock.now(), SYNC_LEASE_MS))) {
    throw new AppError('CONFLICT', `a sync of "${app.name}" is already running; retry later`);
  }
  const summary: SyncSummary = { added: 0, updated: 0, total: 0, withoutRefreshToken: 0 };
  try {
    for await (const page of authorizerListPages(deps, app)) {
      summary.total = page.total;
      // What the hub holds for this page: two queries, then writes only where something changes.
      const owners = page.items.map((i) => authorizerOwner(app, i.appId));
      const rows = await creds.getMany(owners, [AUTHORIZER_STATUS_KIND, AUTHORIZER_REFRESH_KIND]);
      const held = new Map(rows.map((r) => [`${r.owner}/${r.kind}`, r.value]));
      const entries = await deps.store.authorizers.getMany(
        app.name,
        page.items.map((i) => i.appId),
      );
      const entryOf = new Map(entries.map((e) => [e.appId, e]));
      for (const item of page.items) {
        const owner = authorizerOwner(app, item.appId);
        const outcome = await syncOne(deps, app, item, {
          status: held.get(`${owner}/${AUTHORIZER_STATUS_KIND}`),
          refresh: held.get(`${owner}/${AUTHORIZER_REFRESH_KIND}`),
          entry: entryOf.get(item.appId),
        });
        if (outcome === 'added') summary.added += 1;
        if (outcome === 'updated') summary.updated += 1;
        if (item.refreshToken === undefined) summary.withoutRefreshToken += 1;
      }
      if (!(await creds.extendLease(lease, holder, deps.clock.now(), SYNC_LEASE_MS))) {
        throw new AppError('CONFLICT', `the sync of "${app.name}" lost its lease; retry`);
      }
    }
  } finally {
    await creds.releaseLease(lease, holder).catch(() => false);
  }
  deps.log.info({ app: app.name, ...summary }, 'authorizers synced');
  return summary;
}

async function syncOne(
  deps: DirectoryDeps,
  app: AppRecord,
  item: ListedAuthorizer,
  hub: {
    status: string | undefined;
    refresh: string | undefined;
    entry: AuthorizerRecord | undefined;
  },
): Promise<'added' | 'updated' | undefined> {
  const creds = deps.store.credentials;
  const now = deps.clock.now();
  const key = (kind: string) => ({ owner: authorizerOwner(app, item.appId), kind });
  const known = hub.status !== undefined || hub.entry !== undefined;
  const revokedAt = hub.entry?.status === 'revoked' ? hub.entry.revokedAt : undefined;
  if (revokedAt !== undefined && (item.authTime ?? 0) <= revokedAt) {
    // Authorized before the revocation the hub saw: the list lags; it stays revoked.
    return undefined;
  }
  let changed = false;
  if (item.refreshToken !== undefined && hub.refresh === undefined) {
    // Lost (or never had): WeChat's listed one is the current one.
    await creds.put(
      key(AUTHORIZER_REFRESH_KIND),
      { value: item.refreshToken, expiresAt: NO_EXPIRY },
      now,
    );
    deps.tokens.forget(key(AUTHORIZER_TOKEN_KIND));
    changed = true;
  }
  if (hub.status === undefined || hub.status === 'revoked') {
    await creds.put(key(AUTHORIZER_STATUS_KIND), { value: LISTED, expiresAt: NO_EXPIRY }, now);
    changed = true;
  }
  if (hub.entry === undefined || hub.entry.status === 'revoked') {
    await deps.store.authorizers.markAuthorized(
      app.name,
      item.appId,
      { authorizedAt: item.authTime ?? now },
      now,
    );
    changed = true;
  }
  if (!changed) return undefined;
  return known ? 'updated' : 'added';
}
