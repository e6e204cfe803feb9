import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboard } from '../shared/admin/dashboard';
import { drainOutbox } from '../shared/callbacks/forward';
import { testTargets, uniqueName } from '../shared/store/testing';
import {
  merchantKeyPair,
  newPublicKey,
  signNotification,
  testMerchant,
  transactionResource,
} from './pay-notify/testing';
import { AUTH, createTestHub, type TestHub, testApp } from './testing';
import { signPush } from './wx-callback/testing';

const METRICS_KEY = 'metrics-key-0123456789';

/** The families of a scrape, by name, after checking that the text parses. */
async function scrape(hub: TestHub, headers: Record<string, string> = AUTH) {
  const res = await hub.app.request('/metrics', { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const families = new Map<string, ParsedFamily>();
  for (const f of parsePrometheusTextFormat(text)) families.set(f.name, f);
  return { text, families };
}

/** The value of the sample of `family` whose labels include `labels`, as a number. */
function sampleValue(
  families: Map<string, ParsedFamily>,
  family: string,
  labels: Record<string, string>,
): number | undefined {
  const f = families.get(family);
  const sample = f?.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return sample?.value === undefined ? undefined : Number(sample.value);
}

describe.each(testTargets())('GET /metrics on $name', (target) => {
  const oa = testApp({ token: 'oatoken123', messageMode: 'plain' });
  const bad = testApp();
  const merchantKey = merchantKeyPair();
  const pubKey = newPublicKey();
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, {
      apps: [oa, bad],
      env: { WXHUB_METRICS_KEY: METRICS_KEY },
    });
    hub.sim.sim.clock.set(Date.now());
  });
  afterAll(() => hub.close());

  it('answers 401 without a key, and the metrics key opens /metrics only', async () => {
    expect((await hub.app.request('/metrics')).status).toBe(401);
    const wrong = await hub.app.request('/metrics', {
      headers: { authorization: 'Bearer not-the-metrics-key-0000' },
    });
    expect(wrong.status).toBe(401);
    const metricsOnly = { authorization: `Bearer ${METRICS_KEY}` };
    expect((await hub.app.request('/metrics', { headers: metricsOnly })).status).toBe(200);
    const token = await hub.app.request(`/v1/apps/${oa.name}/token`, { headers: metricsOnly });
    expect(token.status).toBe(401);
    expect((await hub.app.request('/healthz?detail=1', { headers: metricsOnly })).status).toBe(401);
  });

  it('after traffic through the simulator, every family has its labels and values', async () => {
    const before = await scrape(hub);
    const refreshed = (families: Map<string, ParsedFamily>, outcome: string) =>
      sampleValue(families, 'wxhub_credential_refreshes_total', {
        kind: 'access_token',
        outcome,
      }) ?? 0;
    const deadBefore = sampleValue(before.families, 'wxhub_outbox_dead_total', {
      source: 'message',
    });

    // Tokens: one refreshed from WeChat, one refused by it (40013), one app unknown.
    const ok = await hub.app.request(`/v1/apps/${oa.name}/token`, { headers: AUTH });
    expect(ok.status).toBe(200);
    const { accessToken } = (await ok.json()) as { accessToken: string };
    hub.sim.sim.injectFault({ path: '/cgi-bin/token', appId: bad.appId, errcode: 40013 });
    expect((await hub.app.request(`/v1/apps/${bad.name}/token`, { headers: AUTH })).status).toBe(
      502,
    );
    expect((await hub.app.request('/v1/apps/no-such-app/token', { headers: AUTH })).status).toBe(
      404,
    );

    // Through the proxy: WeChat answers errcode 0, then (a fault) 45009.
    const proxied = `/v1/proxy/${oa.name}/cgi-bin/getcallbackip`;
    expect((await hub.app.request(proxied, { headers: AUTH })).status).toBe(200);
    hub.sim.sim.injectFault({ path: '/cgi-bin/getcallbackip', errcode: 45009 });
    await hub.app.request(proxied, { headers: AUTH });

    // Pushes: stored, WeChat's retry of it, one with a wrong signature.
    const now = Math.floor(hub.sim.sim.clock.now() / 1000);
    const msgId = `77${now}`;
    const message = `<xml><ToUserName><![CDATA[gh_oa]]></ToUserName><FromUserName><![CDATA[o-1]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>${msgId}</MsgId></xml>`;
    const push = signPush({ app: oa.name, token: 'oatoken123', message, timestamp: now });
    const post = (path: string) =>
      hub.app.request(path, {
        method: 'POST',
        body: push.body,
        headers: { 'content-type': 'text/xml' },
      });
    expect(await (await post(push.path)).text()).toBe('success');
    expect(await (await post(push.path)).text()).toBe('success');
    const forged = push.path.replace(/signature=[0-9a-f]+/, `signature=${'0'.repeat(40)}`);
    expect((await post(forged)).status).toBe(401);

    // A pay notification, and WeChat Pay's retry of it.
    const m = testMerchant(merchantKey.privateKeyPem, [pubKey]);
    await hub.deps.store.merchants.upsert(m, 'file', hub.sim.sim.clock.now());
    const n = signNotification({
      key: pubKey,
      apiV3Key: m.apiV3Key,
      resource: transactionResource(m.mchId),
      timestamp: now,
    });
    for (let i = 0; i < 2; i++) {
      const res = await hub.app.request(`/pay/${m.name}/notify`, {
        method: 'POST',
        headers: n.headers,
        body: n.body,
      });
      expect(res.status).toBe(204);
    }

    // A delivery out of attempts.
    const at = hub.deps.clock.now();
    const key = uniqueName('dead');
    await hub.deps.store.messages.insert(
      {
        app: oa.name,
        dedupKey: key,
        receivedAt: at,
        format: 'xml',
        encrypted: false,
        raw: '<xml/>',
        parsed: {},
      },
      [
        {
          owner: oa.name,
          targetUrl: 'http://127.0.0.1:9/hook',
          idempotencyKey: key,
          payload: '{}',
          maxAttempts: 1,
          nextAttemptAt: at,
        },
      ],
      at,
    );
    await drainOutbox(hub.deps, { owner: oa.name });

    const { families, text } = await scrape(hub);
    // Nothing a caller must keep secret is in the text.
    expect(text).not.toContain(accessToken);
    expect(text).not.toContain(oa.appSecret ?? '-');

    // The parser keeps a histogram's buckets but not its labels: the series are read from the
    // text's `_count` lines (labels in the order written).
    expect(families.get('wxhub_http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    const count = (labels: string) =>
      Number(
        new RegExp(
          `^wxhub_http_request_duration_seconds_count\\{${labels.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\} (\\d+)$`,
          'm',
        ).exec(text)?.[1] ?? 0,
      );
    expect(count('method="GET",route="/v1/apps/:app/token",status="200"')).toBe(1);
    expect(count('method="GET",route="/v1/apps/:app/token",status="502"')).toBe(1);
    expect(count('method="GET",route="/v1/apps/:app/token",status="404"')).toBe(1);
    expect(count('method="POST",route="/wx/:app/callback",status="200"')).toBe(2);
    expect(count('method="POST",route="/wx/:app/callback",status="401"')).toBe(1);
    expect(text).toMatch(
      /^wxhub_http_request_duration_seconds_bucket\{method="GET",route="\/v1\/apps\/:app\/token",status="200",le="\+Inf"\} 1$/m,
    );
    // A path is never a label: the unknown app's name is in no series.
    expect(text).not.toContain('no-such-app');

    expect(families.get('wxhub_upstream_calls_total')?.type).toBe('COUNTER');
    const tokenCall = { platform: 'wechat', api: '/cgi-bin/token' };
    expect(
      sampleValue(families, 'wxhub_upstream_calls_total', { ...tokenCall, errcode: '0' }),
    ).toBe(1);
    expect(
      sampleValue(families, 'wxhub_upstream_calls_total', { ...tokenCall, errcode: '40013' }),
    ).toBe(1);

    const proxyCall = { platform: 'wechat', api: '/cgi-bin/getcallbackip' };
    expect(
      sampleValue(families, 'wxhub_upstream_calls_total', { ...proxyCall, errcode: '0' }),
    ).toBe(1);
    expect(
      sampleValue(families, 'wxhub_upstream_calls_total', { ...proxyCall, errcode: '45009' }),
    ).toBe(1);

    expect(families.get('wxhub_credential_refreshes_total')?.type).toBe('COUNTER');
    expect(refreshed(families, 'ok') - refreshed(before.families, 'ok')).toBe(1);
    expect(refreshed(families, 'error') - refreshed(before.families, 'error')).toBe(1);

    expect(families.get('wxhub_credential_expiry_seconds')?.type).toBe('GAUGE');
    const expiry = sampleValue(families, 'wxhub_credential_expiry_seconds', {
      app: oa.name,
      kind: 'access_token',
    });
    expect(expiry).toBeGreaterThan(7000);
    expect(expiry).toBeLessThanOrEqual(7200);

    const callbacks = (outcome: string, reason = '') =>
      sampleValue(families, 'wxhub_callbacks_total', { platform: 'wechat', outcome, reason });
    expect(callbacks('stored')).toBe(1);
    expect(callbacks('deduplicated')).toBe(1);
    expect(callbacks('refused', 'unauthorized')).toBe(1);

    const pay = (outcome: string) =>
      sampleValue(families, 'wxhub_pay_notifications_total', {
        event_type: 'TRANSACTION.SUCCESS',
        outcome,
      });
    expect(pay('stored')).toBe(1);
    expect(pay('deduplicated')).toBe(1);

    expect(families.get('wxhub_outbox_deliveries')?.type).toBe('GAUGE');
    expect(
      sampleValue(families, 'wxhub_outbox_deliveries', { status: 'dead' }),
    ).toBeGreaterThanOrEqual(1);
    // The pending series is there (whatever its count while the outbox drains).
    expect(sampleValue(families, 'wxhub_outbox_deliveries', { status: 'pending' })).toBeTypeOf(
      'number',
    );
    expect(
      (sampleValue(families, 'wxhub_outbox_dead_total', { source: 'message' }) ?? 0) -
        (deadBefore ?? 0),
    ).toBe(1);
  });

  it("the console dashboard's charts read the same numbers", async () => {
    const { families } = await scrape(hub);
    const d = await dashboard(hub.deps);
    const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const summed = (family: string, keep: (labels: Record<string, string>) => boolean) =>
      (families.get(family)?.metrics ?? [])
        .filter((m) => keep(m.labels ?? {}))
        .reduce((n, m) => n + Number(m.value), 0);
    // Every refresh and dead delivery of this file happened within the dashboard's 24 hours.
    expect(total(d.activity.refreshes)).toBe(
      summed('wxhub_credential_refreshes_total', () => true),
    );
    expect(total(d.activity.refreshes)).toBeGreaterThanOrEqual(2);
    expect(total(d.activity.refreshFailures)).toBe(
      summed('wxhub_credential_refreshes_total', (l) => l.outcome === 'error'),
    );
    expect(total(d.activity.deadDeliveries)).toBe(summed('wxhub_outbox_dead_total', () => true));
    expect(total(d.activity.deadDeliveries)).toBeGreaterThanOrEqual(1);
    expect(d.outbox.dead).toBe(
      sampleValue(families, 'wxhub_outbox_deliveries', { status: 'dead' }),
    );
    expect(d.outbox.pending).toBe(
      sampleValue(families, 'wxhub_outbox_deliveries', { status: 'pending' }),
    );
  });

  it('counts refreshes in the database: another instance scrapes the same totals', async () => {
    const other = await createTestHub(target, { apps: [], sim: hub.sim });
    try {
      const mine = await scrape(hub);
      const theirs = await scrape(other);
      const label = { kind: 'access_token', outcome: 'ok' };
      expect(sampleValue(theirs.families, 'wxhub_credential_refreshes_total', label)).toBe(
        sampleValue(mine.families, 'wxhub_credential_refreshes_total', label),
      );
      // Their own requests only: this one has answered none through the token route.
      const http = theirs.families.get('wxhub_http_request_duration_seconds');
      expect(http?.metrics.some((s) => s.labels?.route === '/v1/apps/:app/token')).toBe(false);
    } finally {
      await other.close();
    }
  });
});
