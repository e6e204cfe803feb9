import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../config';
import type { TestTarget } from './testing';
import { testTargets, uniqueName, useTestStore } from './testing';
import { COUNTER_BUCKET_MS, type NewCallbackMessage, type NewDelivery } from './types';

// The repository methods the admin console reads and writes through, on both dialects.

const NOW = 1_800_000_000_000;
const HOUR = COUNTER_BUCKET_MS;

function app(name: string): AppConfig {
  return {
    name,
    kind: 'official',
    appId: `wx${name.replace(/[^a-z0-9]/g, '').slice(-12)}`,
    appSecret: 'app-secret-value-1234567890',
    tokenMode: 'stable',
    forward: [],
  };
}

function message(
  app: string,
  n: number,
  over: Partial<NewCallbackMessage> = {},
): NewCallbackMessage {
  return {
    app,
    dedupKey: `k${n}`,
    receivedAt: NOW + n,
    format: 'xml',
    encrypted: false,
    raw: '<xml/>',
    parsed: { MsgType: 'text' },
    msgType: 'text',
    fromUser: 'openid-1',
    ...over,
  };
}

const delivery = (owner: string, n: number): NewDelivery => ({
  owner,
  targetUrl: `http://127.0.0.1:9/${n}`,
  idempotencyKey: `${owner}-${n}`,
  payload: '{}',
  maxAttempts: 1,
  nextAttemptAt: NOW,
});

describe.each(testTargets())('admin store methods on $name', (target: TestTarget) => {
  const { store } = useTestStore(target);

  it('apps.create inserts a new name and changes nothing for one that exists', async () => {
    const name = uniqueName('app');
    expect(await store().apps.create(app(name), 'api', NOW)).toBe(true);
    const other = { ...app(name), appId: 'wxother0000', appSecret: 'another-secret-value' };
    expect(await store().apps.create(other, 'api', NOW + 1)).toBe(false);
    expect(await store().apps.get(name)).toMatchObject({
      appId: app(name).appId,
      appSecret: 'app-secret-value-1234567890',
      source: 'api',
      createdAt: NOW,
    });
  });

  it('counters: one row per name, label and hour, incremented by concurrent writers', async () => {
    const name = uniqueName('ctr');
    await Promise.all([1, 2, 3, 4, 5].map(() => store().counters.increment(name, 'ok', NOW)));
    await store().counters.increment(name, 'error', NOW + 1);
    await store().counters.increment(name, 'ok', NOW + HOUR);
    const start = NOW - (NOW % HOUR);
    const rows = await store().counters.list(name, start, start + 2 * HOUR);
    expect(
      rows.sort((a, b) => a.bucketStart - b.bucketStart || a.label.localeCompare(b.label)),
    ).toEqual([
      { label: 'error', bucketStart: start, count: 1 },
      { label: 'ok', bucketStart: start, count: 5 },
      { label: 'ok', bucketStart: start + HOUR, count: 1 },
    ]);
    expect(await store().counters.list(name, start + HOUR, start + 2 * HOUR)).toHaveLength(1);
  });

  it('counters: totals of the all-time rows, which no range of hours holds', async () => {
    const name = uniqueName('tot');
    await Promise.all(
      [1, 2, 3].map(() => store().counters.increment(name, 'a:ok', NOW, { total: true })),
    );
    await store().counters.increment(name, 'a:ok', NOW + HOUR, { total: true });
    await store().counters.increment(name, 'a:error', NOW, { total: true });
    await store().counters.increment(name, 'b:ok', NOW);
    expect(await store().counters.totals(name)).toEqual([
      { label: 'a:error', count: 1 },
      { label: 'a:ok', count: 4 },
    ]);
    const rows = await store().counters.list(name, 0, NOW + 2 * HOUR);
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(6);
    await store().probeWrite();
    await store().probeWrite();
    expect(await store().counters.totals('health')).toEqual([{ label: 'write_probe', count: 2 }]);
  });

  it('alerts: a key is raised by one of concurrent callers and cleared by one', async () => {
    const key = `credential:${uniqueName('al')}/access_token`;
    const raised = await Promise.all([1, 2, 3, 4].map(() => store().alerts.raise(key, NOW)));
    expect(raised.filter(Boolean)).toHaveLength(1);
    expect(await store().alerts.raise(key, NOW + 1)).toBe(false);
    expect((await store().alerts.list()).filter((r) => r.key === key)).toEqual([
      { key, raisedAt: NOW },
    ]);
    const cleared = await Promise.all([1, 2, 3].map(() => store().alerts.clear(key)));
    expect(cleared.filter(Boolean)).toHaveLength(1);
    expect((await store().alerts.list()).some((r) => r.key === key)).toBe(false);
    expect(await store().alerts.raise(key, NOW + 2)).toBe(true);
  });

  it('messages: search by each filter, newest first, keyset pages by id; counts a time range', async () => {
    const a = uniqueName('msg');
    const b = uniqueName('msg');
    for (let n = 1; n <= 5; n++) await store().messages.insert(message(a, n), [], NOW);
    await store().messages.insert(
      message(b, 1, { msgType: 'event', event: 'subscribe', fromUser: 'openid-2' }),
      [],
      NOW,
    );
    const all = await store().messages.search({ app: a, limit: 10 });
    expect(all.map((m) => m.dedupKey)).toEqual(['k5', 'k4', 'k3', 'k2', 'k1']);
    const first = await store().messages.search({ app: a, limit: 2 });
    const second = await store().messages.search({ app: a, limit: 2, before: first[1]?.id });
    expect([...first, ...second].map((m) => m.dedupKey)).toEqual(['k5', 'k4', 'k3', 'k2']);
    expect(
      (await store().messages.search({ app: a, from: NOW + 2, to: NOW + 4, limit: 10 })).map(
        (m) => m.dedupKey,
      ),
    ).toEqual(['k3', 'k2']);
    const events = await store().messages.search({
      event: 'subscribe',
      fromUser: 'openid-2',
      limit: 10,
    });
    expect(events.map((m) => m.app)).toEqual([b]);
    expect(await store().messages.search({ app: b, msgType: 'text', limit: 10 })).toEqual([]);
    expect(await store().messages.byId(all[0]?.id ?? 0)).toMatchObject({ app: a, dedupKey: 'k5' });
    expect(await store().messages.byId(999_999_999)).toBeUndefined();
    expect(await store().messages.countReceived(NOW + 1, NOW + 3)).toBe(3); // a's k1, k2 and b's k1
  });

  it('pay notifications: search by merchant and type, newest first; by id', async () => {
    const m = uniqueName('mch');
    for (const [i, type] of [
      'TRANSACTION.SUCCESS',
      'REFUND.SUCCESS',
      'TRANSACTION.SUCCESS',
    ].entries()) {
      await store().payNotifications.insert(
        {
          merchant: m,
          notificationId: `EV-${i}`,
          eventType: type,
          resourceType: 'encrypt-resource',
          raw: '{}',
          resource: { out_trade_no: `o${i}` },
          receivedAt: NOW + i,
        },
        [],
        NOW,
      );
    }
    const paid = await store().payNotifications.search({
      merchant: m,
      eventType: 'TRANSACTION.SUCCESS',
      limit: 10,
    });
    expect(paid.map((n) => n.notificationId)).toEqual(['EV-2', 'EV-0']);
    const older = await store().payNotifications.search({
      merchant: m,
      before: paid[0]?.id,
      limit: 1,
    });
    expect(older.map((n) => n.notificationId)).toEqual(['EV-1']);
    expect(await store().payNotifications.byId(paid[1]?.id ?? 0)).toMatchObject({
      resource: { out_trade_no: 'o0' },
    });
  });

  it('outbox: requeue and discard change only pending and dead rows; discarded rows are never claimed and are purged', async () => {
    const o = uniqueName('obx');
    await store().messages.insert(
      message(o, 1),
      [delivery(o, 1), delivery(o, 2), delivery(o, 3)],
      NOW,
    );
    const [d1, d2, d3] = await store().outbox.list({ owner: o });
    if (d1 === undefined || d2 === undefined || d3 === undefined) throw new Error('not stored');
    // d1 dies (one attempt), d2 is delivered, d3 stays pending.
    await store().outbox.claimDue('w', NOW, 10_000, 10, o);
    expect(await store().outbox.markFailed(d1.id, 'w', 'HTTP 500', NOW + 1, NOW)).toBe('dead');
    expect(await store().outbox.markDelivered(d2.id, 'w', NOW)).toBe(true);
    expect(await store().outbox.markFailed(d3.id, 'w', 'HTTP 500', NOW + 1, NOW)).toBe('dead');
    expect(await store().outbox.countStatus('dead')).toBeGreaterThanOrEqual(2);

    expect(await store().outbox.requeue(d2.id, NOW + 5)).toBe(false);
    expect(await store().outbox.discard(d2.id, NOW + 5)).toBe(false);
    expect(await store().outbox.requeue(d1.id, NOW + 5)).toBe(true);
    expect(await store().outbox.get(d1.id)).toMatchObject({
      status: 'pending',
      attempts: 0,
      nextAttemptAt: NOW + 5,
    });
    // A row locked by a worker loses its lock when discarded: the worker's outcome is lost.
    expect(await store().outbox.requeue(d3.id, NOW + 5)).toBe(true);
    expect((await store().outbox.claimDue('w2', NOW + 5, 10_000, 10, o)).map((d) => d.id)).toEqual([
      d1.id,
      d3.id,
    ]);
    expect(await store().outbox.markDelivered(d1.id, 'w2', NOW + 6)).toBe(true);
    expect(await store().outbox.discard(d3.id, NOW + 6)).toBe(true);
    expect(await store().outbox.markFailed(d3.id, 'w2', 'late', NOW + 7, NOW + 6)).toBe('lost');
    expect(await store().outbox.markDelivered(d3.id, 'w2', NOW + 6)).toBe(false);
    expect(await store().outbox.get(d3.id)).toMatchObject({ status: 'discarded' });
    expect(await store().outbox.requeue(d3.id, NOW + 7)).toBe(false);
    // Never claimed again, whatever its due time.
    expect(await store().outbox.claimDue('w3', NOW + 99 * HOUR, 10_000, 10, o)).toEqual([]);
    expect((await store().outbox.list({ status: 'discarded', owner: o })).map((d) => d.id)).toEqual(
      [d3.id],
    );
    expect((await store().outbox.list({ owner: o, newest: 2 })).map((d) => d.id)).toEqual([
      d3.id,
      d2.id,
    ]);
    // Purged with delivered rows, by when it was discarded.
    expect(await store().outbox.purgeDelivered(NOW + 6, 100)).toBeGreaterThanOrEqual(1);
    expect(await store().outbox.get(d3.id)).toMatchObject({ status: 'discarded' });
    expect(await store().outbox.get(d2.id)).toBeUndefined();
    await store().outbox.purgeDelivered(NOW + 7, 100);
    expect(await store().outbox.get(d3.id)).toBeUndefined();
    expect(await store().outbox.get(d1.id)).toBeUndefined();
  });

  it('credentials.list: by owner and kinds, ordered, bounded', async () => {
    const owner = `app:${uniqueName('cred')}`;
    for (const kind of ['jsapi_ticket', 'access_token', 'classic_refresh_budget']) {
      await store().credentials.ensure({ owner, kind }, NOW);
    }
    const rows = await store().credentials.list({ owner, limit: 10 });
    expect(rows.map((r) => r.kind)).toEqual([
      'access_token',
      'classic_refresh_budget',
      'jsapi_ticket',
    ]);
    const served = await store().credentials.list({
      owner,
      kinds: ['access_token', 'jsapi_ticket'],
      limit: 1,
    });
    expect(served.map((r) => r.kind)).toEqual(['access_token']);
  });
});
