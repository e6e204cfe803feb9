import type { Deps } from '../platform/deps';
import { COUNTER_BUCKET_MS } from '../store';
import { REFRESH_COUNTER } from '../tokens/manager';
import { SERVED_KINDS } from './credentials';
import { freshnessView } from './views';

/** Hours of activity the dashboard shows, oldest first. */
export const ACTIVITY_BUCKETS = 24;
/** Most credentials the dashboard lists (by owner, then kind). */
export const DASHBOARD_CREDENTIALS = 500;

/**
 * What the console's dashboard shows: each served credential's freshness, the last 24 hours of
 * pushes, pay notifications and refreshes per hour (the current hour last), and the outbox's
 * pending and dead counts. Counts come from indexed ranges (`received_at`, the counters' key,
 * `outbox.status`), never from reading the rows, and through `store.reader` (the read replica
 * when configured).
 */
export async function dashboard(deps: Deps) {
  const now = deps.clock.now();
  const from = now - (now % COUNTER_BUCKET_MS) - (ACTIVITY_BUCKETS - 1) * COUNTER_BUCKET_MS;
  const starts = Array.from({ length: ACTIVITY_BUCKETS }, (_, i) => from + i * COUNTER_BUCKET_MS);
  const perBucket = (count: (start: number, end: number) => Promise<number>) =>
    Promise.all(starts.map((s) => count(s, s + COUNTER_BUCKET_MS)));
  const credentials = await deps.store.reader.credentials.list({
    kinds: SERVED_KINDS,
    limit: DASHBOARD_CREDENTIALS,
  });
  const pushes = await perBucket((s, e) => deps.store.reader.messages.countReceived(s, e));
  const payNotifications = await perBucket((s, e) =>
    deps.store.reader.payNotifications.countReceived(s, e),
  );
  const refreshes = starts.map(() => 0);
  const end = from + ACTIVITY_BUCKETS * COUNTER_BUCKET_MS;
  for (const b of await deps.store.reader.counters.list(REFRESH_COUNTER, from, end)) {
    const i = Math.floor((b.bucketStart - from) / COUNTER_BUCKET_MS);
    refreshes[i] = (refreshes[i] ?? 0) + b.count;
  }
  return {
    credentials: credentials.map((c) => freshnessView(c, now)),
    activity: {
      from: new Date(from).toISOString(),
      bucketSeconds: COUNTER_BUCKET_MS / 1000,
      pushes,
      payNotifications,
      refreshes,
    },
    outbox: {
      pending: await deps.store.reader.outbox.countStatus('pending'),
      dead: await deps.store.reader.outbox.countStatus('dead'),
    },
  };
}
