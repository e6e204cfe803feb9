import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { SpanHandle, SpanValue, Tracing, TracingConfig } from './telemetry';

const KINDS = { server: SpanKind.SERVER, client: SpanKind.CLIENT, internal: SpanKind.INTERNAL };

/**
 * OpenTelemetry traces over OTLP/HTTP (https://opentelemetry.io/docs/specs/otlp/#otlphttp),
 * loaded with `import()` only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) is set:
 * the SDK costs a process without it nothing. The current span is carried in an
 * AsyncLocalStorage of this module (no global context manager is registered), so the spans of
 * upstream calls and database steps made while a request is served are children of its span.
 * Spans go out in batches, and after each request ({@link Tracing.flush}).
 */
export function createTracing(config: TracingConfig): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.url }))],
  });
  const tracer = provider.getTracer('wxhub');
  const current = new AsyncLocalStorage<Span>();
  let flushing: Promise<void> = Promise.resolve();

  const parentContext = (traceparent?: string): Context => {
    const parent = current.getStore();
    if (parent !== undefined) return trace.setSpan(ROOT_CONTEXT, parent);
    // https://www.w3.org/TR/trace-context/#traceparent-header (version 00; all-zero ids are invalid).
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent ?? '');
    if (m === null || /^0+$/.test(m[1] ?? '') || /^0+$/.test(m[2] ?? '')) return ROOT_CONTEXT;
    return trace.setSpanContext(ROOT_CONTEXT, {
      traceId: m[1] ?? '',
      spanId: m[2] ?? '',
      traceFlags: Number.parseInt(m[3] ?? '0', 16) & 1,
      isRemote: true,
    });
  };
  const handle = (span: Span): SpanHandle => ({
    setAttribute: (k: string, v: SpanValue) => {
      span.setAttribute(k, v);
    },
    fail: (reason) => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    },
    end: () => span.end(),
  });
  const start = (
    name: string,
    attributes: Record<string, SpanValue>,
    kind: keyof typeof KINDS,
    traceparent?: string,
  ) => tracer.startSpan(name, { kind: KINDS[kind], attributes }, parentContext(traceparent));

  return {
    async inSpan(name, attributes, work, kind = 'internal', traceparent) {
      const span = start(name, attributes, kind, traceparent);
      const h = handle(span);
      try {
        return await current.run(span, () => work(h));
      } catch (err) {
        h.fail(err instanceof Error ? err.name : 'error');
        throw err;
      } finally {
        span.end();
      }
    },
    startSpan: (name, attributes, kind = 'internal') => handle(start(name, attributes, kind)),
    // Chained: a flush asked while another is sending resolves once both have sent.
    flush: () => {
      flushing = flushing.then(
        () => provider.forceFlush(),
        () => provider.forceFlush(),
      );
      return flushing;
    },
    shutdown: () => provider.shutdown(),
  };
}
