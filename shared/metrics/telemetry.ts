import { createMetricsRecorder, type MetricsRecorder } from './recorder';

/** An attribute value of a span. */
export type SpanValue = string | number | boolean;

/** A span under way (OpenTelemetry's, behind ./tracing.ts, which is loaded only when on). */
export interface SpanHandle {
  setAttribute(key: string, value: SpanValue): void;
  /** Marks the span failed with a short reason (never a secret: an errcode, an error's name). */
  fail(reason: string): void;
  end(): void;
}

/** Traces, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (./tracing.ts). */
export interface Tracing {
  /**
   * Runs `work` in a new span, the current one inside it (spans started by `work` are its
   * children). `kind` `server` for an HTTP request, `client` for an upstream call.
   */
  inSpan<T>(
    name: string,
    attributes: Record<string, SpanValue>,
    work: (span: SpanHandle) => Promise<T>,
    kind?: 'server' | 'client' | 'internal',
    /** A caller's W3C `traceparent`: the span continues its trace (a request's span only). */
    traceparent?: string,
  ): Promise<T>;
  /** A span child of the current one, not made current (ended by the caller). */
  startSpan(
    name: string,
    attributes: Record<string, SpanValue>,
    kind?: 'server' | 'client' | 'internal',
  ): SpanHandle;
  /** Sends the spans ended so far. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Where traces go: the OTLP/HTTP traces URL and the service's name. */
export interface TracingConfig {
  url: string;
  serviceName: string;
}

/**
 * Metrics and traces of one process: what the base app, the upstream helpers and the token
 * manager record into. `tracing` is undefined until {@link loadTracing} has loaded it (only
 * when configured), so a process without `OTEL_EXPORTER_OTLP_ENDPOINT` never loads it.
 */
export interface Telemetry {
  readonly metrics: MetricsRecorder;
  tracing: Tracing | undefined;
  /** Set when traces are configured: loads ./tracing.ts on first use (memoised). */
  readonly loadTracing: (() => Promise<Tracing>) | undefined;
}

/** A telemetry with a fresh recorder; tracing loaded on first use when `tracing` is given. */
export function createTelemetry(tracing?: TracingConfig): Telemetry {
  let loading: Promise<Tracing> | undefined;
  const t: Telemetry = {
    metrics: createMetricsRecorder(),
    tracing: undefined,
    loadTracing:
      tracing === undefined
        ? undefined
        : () => {
            loading ??= import('./tracing').then(
              (m) => {
                const loaded = m.createTracing(tracing);
                t.tracing = loaded;
                return loaded;
              },
              (err: unknown) => {
                loading = undefined;
                throw err;
              },
            );
            return loading;
          },
  };
  return t;
}

/** One upstream call under way: {@link UpstreamCall.end} it with its outcome. */
export interface UpstreamCall {
  /**
   * `0` for success, the platform's error code, or `timeout`, `unreachable`, `http_<status>`,
   * `bad_answer` when it did not answer usably.
   */
  end(errcode: string | number): void;
}

const NO_CALL: UpstreamCall = { end: () => undefined };

/**
 * THE hook every platform's HTTP helper calls around each upstream call (shared/wechat/http.ts
 * does): counts it in `wxhub_upstream_calls_total{platform,api,errcode}` and, when traces are
 * on, makes a client span `<platform> <api>` with the errcode. `api` is the API's path or name,
 * never a URL (a query may hold a token).
 *
 * @example
 * const call = upstreamCall(http.telemetry, 'douyin', '/oauth/client_token/');
 * try { const body = await ...; call.end(body.err_no); } catch (e) { call.end('unreachable'); throw e; }
 */
export function upstreamCall(
  telemetry: Telemetry | undefined,
  platform: string,
  api: string,
): UpstreamCall {
  if (telemetry === undefined) return NO_CALL;
  const span = telemetry.tracing?.startSpan(
    `${platform} ${api}`,
    { 'wxhub.upstream.platform': platform, 'wxhub.upstream.api': api },
    'client',
  );
  let ended = false;
  return {
    end(errcode) {
      if (ended) return;
      ended = true;
      const code = String(errcode);
      telemetry.metrics.upstream(platform, api, code);
      if (span !== undefined) {
        span.setAttribute('wxhub.upstream.errcode', code);
        if (code !== '0') span.fail(`errcode ${code}`);
        span.end();
      }
    },
  };
}

/**
 * Runs one database step of the credential path (`credentials.claimLease`, `saveValue`…) in a
 * span of its own when traces are on; otherwise just runs it.
 */
export function dbSpan<T>(
  telemetry: Telemetry | undefined,
  name: string,
  work: () => Promise<T>,
): Promise<T> {
  const tracing = telemetry?.tracing;
  if (tracing === undefined) return work();
  return tracing.inSpan(`db ${name}`, { 'db.operation.name': name }, () => work(), 'internal');
}
