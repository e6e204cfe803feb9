/**
 * This process's own numbers for `GET /metrics`: plain counts in maps, no library. Recording
 * costs a map lookup and an add, and loading this file costs nothing a cold start notices;
 * prom-client is loaded only when `/metrics` is asked for (./exposition.ts turns these counts
 * into its text). Numbers every instance must agree on (refreshes, dead deliveries, outbox rows)
 * come from the database at scrape time instead.
 */

/** Upper bounds (seconds) of the request duration histogram's buckets (Prometheus' defaults). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Distinct label sets a family keeps; further ones are counted under `other` values. */
export const MAX_SERIES = 500;

/** One histogram series: counts per bucket (not cumulative), sum and count. */
export interface HistogramSeries {
  labels: Record<string, string>;
  buckets: number[];
  sum: number;
  count: number;
}

/** One counter series. */
export interface CounterSeries {
  labels: Record<string, string>;
  value: number;
}

/** Why a push was not stored, or what happened to it. */
export type CallbackOutcome = 'stored' | 'deduplicated' | 'refused';

export interface MetricsRecorder {
  /** One HTTP request answered: its route template (`/v1/apps/:app/token`), not its path. */
  request(method: string, route: string, status: number, seconds: number): void;
  /**
   * One call to an upstream platform: `platform` (`wechat`, `wechatpay`, `wecom`…), the API's
   * path or name (never a URL with its query), and its outcome: `0`, the platform's error code,
   * or `timeout`, `unreachable`, `http_<status>`, `bad_answer`.
   */
  upstream(platform: string, api: string, errcode: string): void;
  /** A push to a callback URL: stored, a retry of a stored one, or refused (`reason`). */
  callback(platform: string, outcome: CallbackOutcome, reason?: string): void;
  /** A WeChat Pay notification stored, or a retry of a stored one, by its `event_type`. */
  payNotification(eventType: string, outcome: 'stored' | 'deduplicated'): void;
  /** What was recorded so far (the exposition reads it). */
  snapshot(): MetricsSnapshot;
}

export interface MetricsSnapshot {
  requests: HistogramSeries[];
  upstream: CounterSeries[];
  callbacks: CounterSeries[];
  payNotifications: CounterSeries[];
}

/** A label value as the recorder keeps it: printable, at most 96 characters. */
function clean(value: string): string {
  const v = value.length > 96 ? value.slice(0, 96) : value;
  return /^[\x20-\x7e]*$/.test(v) ? v : v.replace(/[^\x20-\x7e]/g, '?');
}

class CounterFamily {
  private readonly series = new Map<string, CounterSeries>();
  constructor(private readonly names: readonly string[]) {}
  add(values: string[], by = 1): void {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      const kept = this.series.size < MAX_SERIES ? values : values.map(() => 'other');
      const otherKey = kept.join('\u0000');
      s = this.series.get(otherKey);
      if (s === undefined) {
        const labels: Record<string, string> = {};
        this.names.forEach((n, i) => {
          labels[n] = clean(kept[i] ?? '');
        });
        s = { labels, value: 0 };
        this.series.set(otherKey, s);
      }
    }
    s.value += by;
  }
  list(): CounterSeries[] {
    return [...this.series.values()].map((s) => ({ labels: { ...s.labels }, value: s.value }));
  }
}

/** A fresh recorder (one per process: every function of it records into the same one). */
export function createMetricsRecorder(): MetricsRecorder {
  const requests = new Map<string, HistogramSeries>();
  const upstream = new CounterFamily(['platform', 'api', 'errcode']);
  const callbacks = new CounterFamily(['platform', 'outcome', 'reason']);
  const pay = new CounterFamily(['event_type', 'outcome']);
  return {
    request(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let s = requests.get(key);
      if (s === undefined) {
        const full = requests.size >= MAX_SERIES;
        const labels = full
          ? { method: 'other', route: 'other', status: String(status) }
          : { method: clean(method), route: clean(route), status: String(status) };
        const otherKey = full ? `other ${status} other` : key;
        s = requests.get(otherKey);
        if (s === undefined) {
          s = { labels, buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
          requests.set(otherKey, s);
        }
      }
      let i = 0;
      while (i < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[i] ?? 0)) i++;
      if (i < s.buckets.length) s.buckets[i] = (s.buckets[i] ?? 0) + 1;
      s.sum += seconds;
      s.count += 1;
    },
    upstream: (platform, api, errcode) => upstream.add([platform, api, errcode]),
    callback: (platform, outcome, reason = '') => callbacks.add([platform, outcome, reason]),
    payNotification: (eventType, outcome) => pay.add([eventType, outcome]),
    snapshot: () => ({
      requests: [...requests.values()].map((s) => ({
        labels: { ...s.labels },
        buckets: [...s.buckets],
        sum: s.sum,
        count: s.count,
      })),
      upstream: upstream.list(),
      callbacks: callbacks.list(),
      payNotifications: pay.list(),
    }),
  };
}
