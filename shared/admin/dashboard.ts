import { DEAD_COUNTER } from '../callbacks/forward';
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
 * when configured). Refreshes (and their failures), deliveries gone dead and the outbox counts
 * are the numbers `GET /metrics` reads too (the same counters and rows), so the charts and a
 * Prometheus dashboard agree.
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
  const end = from + ACTIVITY_BUCKETS * COUNTER_BUCKET_MS;
  /** A counter's hours, summed over the labels `keep` accepts. */
  const hourly = async (name: string, keep: (label: string) => boolean = () => true) => {
    const out = starts.map(() => 0);
    for (const b of await deps.store.reader.counters.list(name, from, end)) {
      if (!keep(b.label)) continue;
      const i = Math.floor((b.bucketStart - from) / COUNTER_BUCKET_MS);
      out[i] = (out[i] ?? 0) + b.count;
    }
    return out;
  };
  const refreshes = await hourly(REFRESH_COUNTER);
  // Labels are `<kind>:error` (or `error`, counted before kinds were).
  const refreshFailures = await hourly(
    REFRESH_COUNTER,
    (l) => l === 'error' || l.endsWith(':error'),
  );
  const deadDeliveries = await hourly(DEAD_COUNTER);
  return {
    credentials: credentials.map((c) => freshnessView(c, now)),
    activity: {
      from: new Date(from).toISOString(),
      bucketSeconds: COUNTER_BUCKET_MS / 1000,
      pushes,
      payNotifications,
      refreshes,
      refreshFailures,
      deadDeliveries,
    },
    outbox: {
      pending: await deps.store.reader.outbox.countStatus('pending'),
      dead: await deps.store.reader.outbox.countStatus('dead'),
    },
  };
}
