import type { Deps } from '../platform/deps';

/** What `/healthz?detail=1` answers: `ok` false makes it a 503. */
export interface HealthDetail {
  ok: boolean;
  body: Record<string, unknown>;
}

/**
 * `GET /metrics` and `GET /healthz?detail=1` of the base app. Their code (prom-client, the
 * checks) is loaded on their first request: ./exposition.ts ships as a file of its own in the SCF
 * build (LAZY_FILES in scripts/build-lib.ts), so a cold start pays nothing for them.
 */
export interface OpsEndpoints {
  /** The Prometheus text exposition and its content type. */
  metrics(): Promise<{ contentType: string; body: string }>;
  healthDetail(): Promise<HealthDetail>;
}

/** The endpoints over `deps` (read when a request comes, not when this is made). */
export function createOps(deps: () => Deps): OpsEndpoints {
  return {
    metrics: async () => (await import('./exposition')).renderMetrics(deps()),
    healthDetail: async () => (await import('./health')).healthDetail(deps()),
  };
}
