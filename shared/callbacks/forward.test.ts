import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwardRule } from '../config';
import type { OpenedStore } from '../store/testing';
import { openTestStore, testTargets, uniqueName } from '../store/testing';
import {
  attemptDelivery,
  idempotencyKey,
  matchingRules,
  outboxBackoffMs,
  purgeExpired,
  targetForLog,
} from './forward';
import { dedupKey, summarize } from './message';

describe('forward rules', () => {
  const rules: ForwardRule[] = [
    { url: 'https://a/all' },
    { url: 'https://a/events', match: { MsgType: 'event' } },
    { url: 'https://a/subs', match: { MsgType: 'event', Event: ['subscribe', 'SCAN'] } },
    { url: 'https://a/time', match: { CreateTime: '1714112445' } },
  ];
  const urls = (fields: Record<string, unknown>) => matchingRules(rules, fields).map((r) => r.url);

  it('matches every listed field, any of a list, numbers as their text', () => {
    expect(urls({ MsgType: 'text' })).toEqual(['https://a/all']);
    expect(urls({ MsgType: 'event', Event: 'SCAN' })).toEqual([
      'https://a/all',
      'https://a/events',
      'https://a/subs',
    ]);
    expect(urls({ MsgType: 'event', Event: 'unsubscribe', CreateTime: 1714112445 })).toEqual([
      'https://a/all',
      'https://a/events',
      'https://a/time',
    ]);
    expect(urls({ MsgType: { nested: 'event' } })).toEqual(['https://a/all']);
  });

  it('gives each (message, target) one idempotency key, without the message in it', () => {
    const k = idempotencyKey('shop', 'msg:123', 'https://a/all');
    expect(k).toBe(idempotencyKey('shop', 'msg:123', 'https://a/all'));
    expect(k).not.toBe(idempotencyKey('shop', 'msg:123', 'https://a/events'));
    expect(k).not.toBe(idempotencyKey('shop', 'msg:124', 'https://a/all'));
    expect(k).toMatch(/^wxhub-[0-9a-f]{48}$/);
  });

  it('shows targets without user info or query', () => {
    expect(targetForLog('https://u:pw@biz.internal:8443/wx/hook?key=s3cret#x')).toBe(
      'https://biz.internal:8443/wx/hook',
    );
  });

  it("keeps no user info or query of the URL in a failed attempt's error (stored and logged)", async () => {
    // Node's fetch refuses a URL with credentials and repeats the whole URL in its message.
    const url = 'https://bot:Pa55w0rd@hooks.example/in?key=TOPSECRETKEY';
    const real = await attemptDelivery(
      fetch,
      { targetUrl: url, payload: '{}', idempotencyKey: 'k' },
      1000,
    );
    expect(real.ok).toBe(false);
    expect(real.error).toContain('https://hooks.example/in');
    expect(real.error).not.toContain('Pa55w0rd');
    expect(real.error).not.toContain('TOPSECRETKEY');
    // Any other error that quotes its URL is cut the same way.
    const thrower = (async () => {
      throw new Error(`cannot reach ${url} (giving up)`);
    }) as unknown as typeof fetch;
    const other = await attemptDelivery(
      thrower,
      { targetUrl: url, payload: '{}', idempotencyKey: 'k' },
      1000,
    );
    expect(other.error).toBe('cannot reach https://hooks.example/in (giving up)');
  });

  it('backs off 30 s doubling up to an hour', () => {
    expect([1, 2, 3, 4, 8, 20].map(outboxBackoffMs)).toEqual([
      30_000, 60_000, 120_000, 240_000, 3_600_000, 3_600_000,
    ]);
  });
});

describe('dedup keys', () => {
  it('uses MsgId, else sender + time + event, else a digest; never over 191 characters', () => {
    const s = (f: Record<string, unknown>) => dedupKey(summarize(f), JSON.stringify(f));
    expect(s({ MsgId: 42, FromUserName: 'o', CreateTime: 1 })).toBe('msg:42');
    expect(s({ FromUserName: 'o', CreateTime: '17', Event: 'subscribe' })).toBe(
      'evt:o:17:subscribe',
    );
    expect(s({ FromUserName: 'o', CreateTime: 17, MsgType: 'event' })).toBe('evt:o:17:event');
    expect(s({ Content: 'no ids' })).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(s({ MsgId: 'x'.repeat(300) })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe.each(testTargets())('retention on $name', (target) => {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await openTestStore(target);
  });
  afterAll(() => opened.store.close());

  it('forgets every expired signature in one pass, however many a busy message URL left', async () => {
    const h = opened.handle;
    const app = uniqueName('sigs');
    const now = 30 * 86_400_000;
    const clock = { now: () => now };
    // 25,000 expired (more than the 20 batches of 1,000 the other kinds of rows get per pass),
    // and one expiring now, kept a minute more for a push accepted just before its expiry.
    const row = (n: number, expiresAt: number) =>
      [app, `sig-${String(n).padStart(36, '0')}`, 'h'.repeat(64), expiresAt] as const;
    const rows = Array.from({ length: 25_000 }, (_, i) => row(i, 1_000 + i));
    rows.push(row(25_000, now));
    // Where each dialect's store keeps them (SQLite: the log its replay memory reads).
    if (h.dialect === 'mysql') {
      await h.pool.query(
        'INSERT INTO callback_signatures (app, signature, body_hash, expires_at) VALUES ?',
        [rows],
      );
    } else {
      const insert = h.sqlite.prepare(
        'INSERT INTO callback_signature_log (app, signature, body_hash, expires_at) VALUES (?, ?, ?, ?)',
      );
      h.sqlite.transaction(() => {
        for (const r of rows) insert.run(...r);
      })();
    }
    const table = h.dialect === 'mysql' ? 'callback_signatures' : 'callback_signature_log';
    const left = async () =>
      h.dialect === 'mysql'
        ? Number(
            (
              (
                await h.pool.query(`SELECT count(*) AS n FROM ${table} WHERE app = ?`, [app])
              )[0] as {
                n: number;
              }[]
            )[0]?.n,
          )
        : (
            h.sqlite.prepare(`SELECT count(*) AS n FROM ${table} WHERE app = ?`).get(app) as {
              n: number;
            }
          ).n;
    expect((await purgeExpired({ store: opened.store, clock }, 0)).signatures).toBe(25_000);
    expect(await left()).toBe(1);
    expect((await purgeExpired({ store: opened.store, clock }, 0)).signatures).toBe(0);
  });

  it('purges messages and delivered rows past retention, keeps pending and dead ones', async () => {
    const { store } = opened;
    const app = uniqueName('ret');
    const msg = (key: string, receivedAt: number) => ({
      app,
      dedupKey: key,
      receivedAt,
      format: 'json' as const,
      encrypted: false,
      raw: '{}',
      parsed: {},
    });
    const delivery = (n: number) => ({
      owner: app,
      targetUrl: `http://127.0.0.1:9/${n}`,
      idempotencyKey: `${app}-${n}`,
      payload: '{}',
      maxAttempts: 1,
      nextAttemptAt: 0,
      lockedBy: `w-${app}`,
      lockedUntil: 10_000,
    });
    // Epoch-era times: no other test's rows are that old, so the shared database is safe.
    await store.messages.insert(msg('old', 1_000), [delivery(1), delivery(2), delivery(3)], 1_000);
    await store.messages.insert(msg('new', 5_000), [], 5_000);
    const [one, two] = await store.outbox.list({ owner: app });
    await store.outbox.markDelivered(one?.id ?? -1, `w-${app}`, 1_500);
    await store.outbox.markFailed(two?.id ?? -1, `w-${app}`, 'HTTP 500', 0, 1_500);
    // A third-party platform's spent authorization-code row, and one still within its day.
    const code = (n: string) => ({ owner: `authcode:${app}:${n}`, kind: 'authorization_code' });
    await store.credentials.ensure(code('spent'), 1_000);
    await store.credentials.ensure(code('recent'), 30 * 86_400_000);
    const clock = { now: () => 30 * 86_400_000 + 2_000 };
    // Console login attempts: one out of the 15-minute lockout window, one within it.
    const who = `login-${app}`;
    await store.admin.addLoginAttempt(who, 1_000, undefined, 0);
    await store.admin.addLoginAttempt(who, 30 * 86_400_000, undefined, 0);
    expect(await purgeExpired({ store, clock }, 0)).toEqual({
      messages: 0,
      deliveries: 0,
      signatures: 0,
      authorizationCodes: 1,
      loginFailures: 1,
    });
    expect(await store.admin.countLoginFailures(who, 0)).toBe(1);
    expect(await store.credentials.get(code('spent'))).toBeUndefined();
    expect(await store.credentials.get(code('recent'))).toBeDefined();
    expect(await purgeExpired({ store, clock }, 30)).toEqual({
      messages: 1,
      deliveries: 1,
      signatures: 0,
      authorizationCodes: 0,
      loginFailures: 0,
    });
    expect(await store.messages.count(app)).toBe(1);
    expect((await store.outbox.list({ owner: app })).map((d) => d.status)).toEqual([
      'dead',
      'pending',
    ]);
  });
});
