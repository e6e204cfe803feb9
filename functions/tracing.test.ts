import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTargets } from '../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from './testing';

/** One span as OTLP/HTTP JSON carries it (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
}

interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: Record<string, unknown> }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

/** A local OTLP/HTTP receiver: every export POSTed to `/v1/traces`, parsed. */
async function startReceiver(): Promise<{
  url: string;
  exports: OtlpExport[];
  close(): Promise<void>;
}> {
  const exports: OtlpExport[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        exports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const attr = (s: OtlpSpan, key: string): unknown => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : Object.values(v)[0];
};

describe.each(testTargets())('OpenTelemetry traces on $name', (target) => {
  const oa = testApp();
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let hub: TestHub;
  beforeAll(async () => {
    receiver = await startReceiver();
    hub = await createTestHub(target, {
      apps: [oa],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'wxhub-test' },
    });
  });
  afterAll(async () => {
    await hub.deps.telemetry.tracing?.shutdown();
    await hub.close();
    await receiver.close();
  });

  it('sends the spans of a token request that refreshed, with no token or secret in any attribute', async () => {
    const res = await hub.app.request(`/v1/apps/${oa.name}/token`, {
      headers: { ...AUTH, 'x-request-id': 'trace-req-1' },
    });
    expect(res.status).toBe(200);
    const { accessToken } = (await res.json()) as { accessToken: string };
    await hub.deps.telemetry.tracing?.flush();

    const spans = receiver.exports.flatMap((e) =>
      e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
    );
    const request = spans.find((s) => attr(s, 'wxhub.request_id') === 'trace-req-1');
    expect(request).toBeDefined();
    expect(attr(request as OtlpSpan, 'http.route')).toBe('/v1/apps/:app/token');
    expect(Number(attr(request as OtlpSpan, 'http.response.status_code'))).toBe(200);
    const mine = spans.filter((s) => s.traceId === request?.traceId);
    const upstream = mine.find((s) => s.name === 'wechat /cgi-bin/token');
    expect(upstream).toMatchObject({ parentSpanId: request?.spanId });
    expect(attr(upstream as OtlpSpan, 'wxhub.upstream.errcode')).toBe('0');
    const db = mine.filter((s) => s.name.startsWith('db credentials.')).map((s) => s.name);
    expect(db).toEqual(
      expect.arrayContaining(['db credentials.claimLease', 'db credentials.saveValue']),
    );
    for (const s of mine.filter((s) => s.name.startsWith('db '))) {
      expect(s.parentSpanId).toBe(request?.spanId);
    }
    const service = receiver.exports[0]?.resourceSpans[0]?.resource.attributes.find(
      (a) => a.key === 'service.name',
    );
    expect(service?.value).toEqual({ stringValue: 'wxhub-test' });

    // Nothing secret anywhere in what was sent: the token, the app secret, a query.
    const sent = JSON.stringify(receiver.exports);
    expect(sent).not.toContain(accessToken);
    expect(sent).not.toContain(oa.appSecret ?? '-');
    expect(sent).not.toMatch(/access_token=|secret=|appsecret/i);
  });

  it("continues a caller's W3C traceparent", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const res = await hub.app.request('/healthz', {
      headers: { traceparent: `00-${traceId}-${parent}-01`, 'x-request-id': 'trace-req-2' },
    });
    expect(res.status).toBe(200);
    await hub.deps.telemetry.tracing?.flush();
    const spans = receiver.exports.flatMap((e) =>
      e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
    );
    const request = spans.find((s) => attr(s, 'wxhub.request_id') === 'trace-req-2');
    expect(request).toMatchObject({ traceId, parentSpanId: parent });
  });

  it('loads nothing when OTEL_EXPORTER_OTLP_ENDPOINT is unset', async () => {
    const plain = await createTestHub(target, { apps: [], sim: hub.sim });
    try {
      expect((await plain.app.request('/healthz')).status).toBe(200);
      expect(plain.deps.telemetry.loadTracing).toBeUndefined();
      expect(plain.deps.telemetry.tracing).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});
