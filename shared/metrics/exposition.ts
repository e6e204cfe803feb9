import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SERVED_KINDS } from '../admin/credentials';
import { DEAD_COUNTER } from '../callbacks/forward';
import { parseAuthorizerOwner } from '../component/authorizers';
import type { Deps } from '../platform/deps';
import { REFRESH_COUNTER } from '../tokens/manager';
import { DURATION_BUCKETS, type HistogramSeries } from './recorder';

/** Most credential rows read for the expiry gauge (one series per app and kind). */
const EXPIRY_ROWS = 5_000;

/**
 * The request duration histogram over the recorder's counts: prom-client formats it, the counts
 * are the recorder's (kept without prom-client, which a cold start does not load).
 */
class RecordedHistogram extends Histogram<string> {
  constructor(
    private readonly metricName: string,
    help: string,
    labelNames: string[],
    private readonly series: () => HistogramSeries[],
  ) {
    super({ name: metricName, help, labelNames, buckets: [...DURATION_BUCKETS], registers: [] });
  }

  /**
   * What the registry prints (prom-client's shape: `_bucket` with `le`, `_sum`, `_count`); the
   * registry and the base class's `get()` read the values through this method.
   */
  async getForPromString() {
    const name = this.metricName;
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] =
      [];
    for (const s of this.series()) {
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        cumulative += s.buckets[i] ?? 0;
        values.push({
          labels: { ...s.labels, le },
          value: cumulative,
          metricName: `${name}_bucket`,
        });
      });
      values.push({
        labels: { ...s.labels, le: '+Inf' },
        value: s.count,
        metricName: `${name}_bucket`,
      });
      values.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
    }
    return {
      name,
      help: HTTP_HELP,
      type: 'histogram' as const,
      values,
      aggregator: 'sum' as const,
    };
  }
}

const HTTP_HELP = 'HTTP requests answered by this process, by route template and status';

/** The credential's app (or merchant) name as a label: an authorizer's counts as its component's. */
function ownerLabel(owner: string): string {
  const authorizer = parseAuthorizerOwner(owner);
  if (authorizer !== undefined) return authorizer.name;
  const i = owner.indexOf(':');
  return i < 0 ? owner : owner.slice(i + 1);
}

/**
 * `GET /metrics`: the Prometheus text exposition
 * (https://prometheus.io/docs/instrumenting/exposition_formats/) of this process's recorded
 * counts (HTTP requests, upstream calls, callbacks, pay notifications: per instance, reset when it
 * starts) and of numbers read from the database now (refreshes and dead deliveries counted by
 * every instance, outbox rows, seconds until each credential expires).
 */
export async function renderMetrics(deps: Deps): Promise<{ contentType: string; body: string }> {
  const registry = new Registry();
  const snap = deps.telemetry.metrics.snapshot();
  const now = deps.clock.now();

  registry.registerMetric(
    new RecordedHistogram(
      'wxhub_http_request_duration_seconds',
      HTTP_HELP,
      ['method', 'route', 'status'],
      () => snap.requests,
    ),
  );

  const counter = (name: string, help: string, labelNames: string[]) => {
    const c = new Counter({ name, help, labelNames, registers: [registry] });
    return c;
  };
  const upstream = counter(
    'wxhub_upstream_calls_total',
    'Calls to upstream platforms by this process, by platform, API and errcode (0 = success)',
    ['platform', 'api', 'errcode'],
  );
  for (const s of snap.upstream) upstream.inc(s.labels, s.value);

  const callbacks = counter(
    'wxhub_callbacks_total',
    'Pushes received by this process: stored, deduplicated (a retry of a stored one) or refused by reason',
    ['platform', 'outcome', 'reason'],
  );
  for (const s of snap.callbacks) callbacks.inc(s.labels, s.value);

  const pay = counter(
    'wxhub_pay_notifications_total',
    'WeChat Pay notifications received by this process, by event type: stored or deduplicated',
    ['event_type', 'outcome'],
  );
  for (const s of snap.payNotifications) pay.inc(s.labels, s.value);

  const [refreshes, dead, pending, deadRows, credentials] = await Promise.all([
    deps.store.reader.counters.totals(REFRESH_COUNTER),
    deps.store.reader.counters.totals(DEAD_COUNTER),
    deps.store.reader.outbox.countStatus('pending'),
    deps.store.reader.outbox.countStatus('dead'),
    deps.store.reader.credentials.list({ kinds: SERVED_KINDS, limit: EXPIRY_ROWS }),
  ]);

  const refreshed = counter(
    'wxhub_credential_refreshes_total',
    'Credential refreshes by every instance (from the database), by credential kind and outcome',
    ['kind', 'outcome'],
  );
  for (const r of refreshes) {
    const i = r.label.lastIndexOf(':');
    const kind = i < 0 ? 'unknown' : r.label.slice(0, i);
    refreshed.inc({ kind, outcome: i < 0 ? r.label : r.label.slice(i + 1) }, r.count);
  }

  const deadTotal = counter(
    'wxhub_outbox_dead_total',
    'Deliveries that ran out of attempts, by every instance (from the database), by source',
    ['source'],
  );
  for (const d of dead) deadTotal.inc({ source: d.label }, d.count);

  const outbox = new Gauge({
    name: 'wxhub_outbox_deliveries',
    help: 'Outbox rows now, by status (pending: still to be tried; dead: out of attempts)',
    labelNames: ['status'],
    registers: [registry],
  });
  outbox.set({ status: 'pending' }, pending);
  outbox.set({ status: 'dead' }, deadRows);

  const expiry = new Gauge({
    name: 'wxhub_credential_expiry_seconds',
    help: 'Seconds until the soonest-expiring credential of each app and kind expires (negative: expired)',
    labelNames: ['app', 'kind'],
    registers: [registry],
  });
  const soonest = new Map<string, { app: string; kind: string; seconds: number }>();
  for (const c of credentials) {
    if (c.expiresAt === undefined) continue;
    const app = ownerLabel(c.owner);
    const key = `${app}\u0000${c.kind}`;
    const seconds = Math.floor((c.expiresAt - now) / 1000);
    const seen = soonest.get(key);
    if (seen === undefined || seconds < seen.seconds)
      soonest.set(key, { app, kind: c.kind, seconds });
  }
  for (const s of soonest.values()) expiry.set({ app: s.app, kind: s.kind }, s.seconds);

  return { contentType: registry.contentType, body: await registry.metrics() };
}
