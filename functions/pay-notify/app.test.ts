import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainOutbox } from '../../shared/callbacks/forward';
import { type MerchantConfig, parseAppsFile } from '../../shared/config';
import { testTargets } from '../../shared/store/testing';
import { numberText } from '../../shared/wechat/exact-json';
import { createTestHub, type TestHub } from '../testing';
import { startTarget } from '../wx-callback/testing';
import {
  merchantKeyPair,
  newPlatformCertificate,
  newPublicKey,
  type PlatformKey,
  resign,
  type SignedNotification,
  signNotification,
  testMerchant,
  transactionResource,
} from './testing';

const merchantKey = merchantKeyPair();
const pubKey = newPublicKey();
const cert = newPlatformCertificate();
const otherKey = newPublicKey();

describe.each(testTargets())('pay-notify on $name', (target) => {
  let hub: TestHub;
  const now = () => Math.floor(hub.sim.sim.clock.now() / 1000);
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [] });
    hub.sim.sim.clock.set(Date.now());
  });
  afterAll(() => hub.close());

  async function addMerchant(keys: PlatformKey[], over: Partial<MerchantConfig> = {}) {
    const m = testMerchant(merchantKey.privateKeyPem, keys, over);
    await hub.deps.store.merchants.upsert(m, 'file', hub.sim.sim.clock.now());
    return m;
  }
  const post = (merchant: string, n: Pick<SignedNotification, 'headers' | 'body'>) =>
    hub.app.request(`/pay/${merchant}/notify`, {
      method: 'POST',
      headers: n.headers,
      body: n.body,
    });
  const stored = (m: MerchantConfig, id: string) => hub.deps.store.payNotifications.get(m.name, id);

  it('accepts a payment signed with a WeChat Pay public key: verified, decrypted, stored, forwarded', async () => {
    const t = await startTarget();
    try {
      const m = await addMerchant([pubKey], { forward: [{ url: t.url }] });
      const resource = transactionResource(m.mchId);
      const n = signNotification({ key: pubKey, apiV3Key: m.apiV3Key, resource, timestamp: now() });
      const res = await post(m.name, n);
      expect(res.status).toBe(204);
      expect(await res.text()).toBe('');
      expect(await stored(m, n.id)).toMatchObject({
        merchant: m.name,
        notificationId: n.id,
        eventType: 'TRANSACTION.SUCCESS',
        resourceType: 'encrypt-resource',
        summary: '支付成功',
        resource,
        raw: n.body,
      });
      expect(t.received).toHaveLength(1);
      expect(t.received[0]?.idempotencyKey).toMatch(/^wxhub-[0-9a-f]{48}$/);
      expect(t.received[0]?.body).toMatchObject({
        merchant: m.name,
        mchId: m.mchId,
        id: n.id,
        eventType: 'TRANSACTION.SUCCESS',
        originalType: 'transaction',
        resource,
      });
      const [delivery] = await hub.deps.store.outbox.list({ owner: m.name });
      expect(delivery).toMatchObject({ source: 'pay', status: 'delivered', attempts: 1 });
    } finally {
      await t.close();
    }
  });

  it('stores and forwards a resource’s 64-bit numbers exactly', async () => {
    const t = await startTarget();
    try {
      const m = await addMerchant([pubKey], { forward: [{ url: t.url }] });
      const resource = transactionResource(m.mchId);
      const resourceText = JSON.stringify(resource).replace(
        /}$/,
        ',"promotion_batch":23456789012345113}',
      );
      const n = signNotification({
        key: pubKey,
        apiV3Key: m.apiV3Key,
        resource,
        resourceText,
        timestamp: now(),
      });
      expect((await post(m.name, n)).status).toBe(204);
      const row = await stored(m, n.id);
      expect(numberText(row?.resource.promotion_batch)).toBe('23456789012345113');
      expect(t.received[0]?.text).toContain('"promotion_batch":23456789012345113}');
    } finally {
      await t.close();
    }
  });

  it('accepts a refund signed with a platform certificate from the apps file', async () => {
    const m = await addMerchant([cert]);
    const resource = {
      mchid: m.mchId,
      out_trade_no: 'T-refund-1',
      transaction_id: '4200000000000000000000000001',
      out_refund_no: 'R-1',
      refund_id: '50000000000000000000000000001',
      refund_status: 'SUCCESS',
      success_time: '2026-11-21T11:00:00+08:00',
      user_received_account: '招商银行信用卡0403',
      amount: { total: 100, refund: 40, payer_total: 100, payer_refund: 40 },
    };
    // Certificate serials are matched case-insensitively.
    const n = signNotification({
      key: { ...cert, serial: cert.serial.toLowerCase() },
      apiV3Key: m.apiV3Key,
      resource,
      eventType: 'REFUND.SUCCESS',
      timestamp: now(),
    });
    expect((await post(m.name, n)).status).toBe(204);
    expect(await stored(m, n.id)).toMatchObject({
      eventType: 'REFUND.SUCCESS',
      summary: '退款成功',
      resource,
    });
  });

  it('accepts a certificate whose serial was written with a leading 00 and in lower case', async () => {
    // As a library printing the DER integer writes it: the same serial as WeChat Pay's header.
    const written = { ...cert, serial: `00${cert.serial.toLowerCase()}` };
    const fromFile = parseAppsFile(
      JSON.stringify({ merchants: [testMerchant(merchantKey.privateKeyPem, [written])] }),
    ).merchants;
    // And a row stored as written by an earlier version, before the apps file check.
    const asWritten = testMerchant(merchantKey.privateKeyPem, [written]);
    for (const m of [...fromFile, asWritten]) {
      await hub.deps.store.merchants.upsert(m, 'file', hub.sim.sim.clock.now());
      const n = signNotification({
        key: cert,
        apiV3Key: m.apiV3Key,
        resource: transactionResource(m.mchId),
        timestamp: now(),
      });
      expect([m.name, (await post(m.name, n)).status]).toEqual([m.name, 204]);
      expect(await stored(m, n.id)).toBeDefined();
    }
  });

  it('accepts both keys during a migration from certificates to the public key', async () => {
    const m = await addMerchant([pubKey, cert]);
    for (const key of [cert, pubKey]) {
      const n = signNotification({
        key,
        apiV3Key: m.apiV3Key,
        resource: transactionResource(m.mchId),
        timestamp: now(),
      });
      expect((await post(m.name, n)).status).toBe(204);
      expect(await stored(m, n.id)).toBeDefined();
    }
  });

  it('answers every retry 204 and stores and forwards the notification once', async () => {
    const t = await startTarget();
    try {
      const m = await addMerchant([pubKey], { forward: [{ url: t.url }] });
      const n = signNotification({
        key: pubKey,
        apiV3Key: m.apiV3Key,
        resource: transactionResource(m.mchId),
        timestamp: now(),
      });
      const first = await Promise.all([1, 2, 3, 4, 5].map(() => post(m.name, n)));
      expect(first.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
      // A retry from another WeChat server: new nonce and signature, same notification id.
      const again = resign(
        { ...n, headers: { ...n.headers, 'wechatpay-nonce': 'another-nonce-0001' } },
        pubKey,
        n.body,
      );
      expect((await post(m.name, again)).status).toBe(204);
      expect(t.received).toHaveLength(1);
      expect(await hub.deps.store.outbox.list({ owner: m.name })).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('keeps what could not be forwarded in the outbox and delivers it on a later pass', async () => {
    const t = await startTarget();
    try {
      t.mode = 'down';
      const m = await addMerchant([pubKey], { forward: [{ url: t.url }] });
      const n = signNotification({
        key: pubKey,
        apiV3Key: m.apiV3Key,
        resource: transactionResource(m.mchId),
        timestamp: now(),
      });
      expect((await post(m.name, n)).status).toBe(204);
      const [pending] = await hub.deps.store.outbox.list({ owner: m.name });
      expect(pending).toMatchObject({ source: 'pay', status: 'pending', lastError: 'HTTP 503' });
      t.mode = 'up';
      hub.sim.sim.clock.advance(31_000);
      expect(await drainOutbox(hub.deps, { owner: m.name })).toMatchObject({ delivered: 1 });
      expect(t.received[0]?.body).toMatchObject({ id: n.id });
      expect(t.received[0]?.idempotencyKey).toBe(pending?.idempotencyKey);
    } finally {
      await t.close();
    }
  });

  describe('refusals: a FAIL answer with 4xx/5xx and nothing stored', () => {
    let m: MerchantConfig;
    let good: SignedNotification;
    beforeAll(async () => {
      m = await addMerchant([pubKey, cert], { forward: [{ url: 'http://127.0.0.1:9/pay' }] });
    });
    const fresh = (over: Partial<Parameters<typeof signNotification>[0]> = {}) =>
      signNotification({
        key: pubKey,
        apiV3Key: m.apiV3Key,
        resource: transactionResource(m.mchId),
        timestamp: now(),
        ...over,
      });

    const flipLastByte = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
      return bytes.toString('base64');
    };
    const withResource = (n: SignedNotification, change: (r: Record<string, string>) => void) => {
      const body = JSON.parse(n.body) as { resource: Record<string, string> };
      change(body.resource);
      return resign(n, pubKey, JSON.stringify(body));
    };

    const cases: [
      string,
      () => SignedNotification | Promise<SignedNotification>,
      number,
      RegExp,
    ][] = [
      [
        'wrong signature (another key)',
        () => fresh({ key: { ...otherKey, serial: pubKey.serial } }),
        401,
        /does not verify/,
      ],
      [
        'body changed by one byte',
        () => {
          good = fresh();
          return {
            ...good,
            body: good.body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESs"'),
          };
        },
        401,
        /does not verify/,
      ],
      ['unknown serial', () => fresh({ key: otherKey }), 401, /names no public key/],
      [
        'unknown certificate serial',
        () => fresh({ key: { ...cert, serial: 'ABCDEF0123456789' } }),
        401,
        /ABCDEF0123456789 is not a known certificate.*download/,
      ],
      ['expired timestamp', () => fresh({ timestamp: now() - 301 }), 401, /at most 300 s/],
      ['future timestamp', () => fresh({ timestamp: now() + 301 }), 401, /at most 300 s/],
      [
        'signature probe',
        () => {
          const n = fresh();
          return {
            ...n,
            headers: {
              ...n.headers,
              'wechatpay-signature': `WECHATPAY/SIGNTEST/${n.headers['wechatpay-signature']}`,
            },
          };
        },
        401,
        /SIGNTEST/,
      ],
      [
        'GCM tag altered (and signed again)',
        () =>
          withResource(fresh(), (r) => {
            r.ciphertext = flipLastByte(r.ciphertext ?? '');
          }),
        400,
        /GCM tag/,
      ],
      [
        'ciphertext altered (and signed again)',
        () =>
          withResource(fresh(), (r) => {
            r.associated_data = 'refund';
          }),
        400,
        /GCM tag/,
      ],
      ['wrong API v3 key', () => fresh({ apiV3Key: 'k'.repeat(32) }), 400, /wrong API v3 key/],
      ['malformed JSON (signed)', () => fresh({ body: '{"id":"x",' }), 400, /not JSON/],
      [
        'JSON without resource (signed)',
        () => fresh({ body: '{"id":"abc","event_type":"TRANSACTION.SUCCESS"}' }),
        400,
        /resource/,
      ],
      [
        'missing signature headers',
        () => {
          const n = fresh();
          const { 'wechatpay-signature': _s, ...headers } = n.headers;
          return { ...n, headers };
        },
        401,
        /missing/,
      ],
      [
        'non-numeric timestamp',
        () => {
          const n = fresh();
          return { ...n, headers: { ...n.headers, 'wechatpay-timestamp': 'soon' } };
        },
        401,
        /not a number/,
      ],
    ];

    it.each(cases)('%s', async (_name, make, status, message) => {
      const n = await make();
      const res = await post(m.name, n);
      expect(res.status).toBe(status);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe('FAIL');
      expect(body.message).toMatch(message);
      expect(body.message).not.toContain(m.apiV3Key);
      const id = (JSON.parse(n.body.startsWith('{"id":"x"') ? '{}' : n.body) as { id?: string }).id;
      if (id !== undefined) expect(await stored(m, id)).toBeUndefined();
      expect(await hub.deps.store.outbox.list({ owner: m.name })).toEqual([]);
    });

    it('unknown merchant: 404 FAIL', async () => {
      const n = fresh();
      const res = await post('no-such-merchant', n);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        code: 'FAIL',
        message: 'no merchant named "no-such-merchant"',
      });
    });

    it('a valid notification still goes through after all of that', async () => {
      const n = fresh();
      expect((await post(m.name, n)).status).toBe(204);
      expect(await stored(m, n.id)).toBeDefined();
    });
  });

  it('answers 503 FAIL (so WeChat Pay retries) when the notification cannot be stored', async () => {
    const down = await createTestHub(target, { apps: [], sim: hub.sim });
    const m = testMerchant(merchantKey.privateKeyPem, [pubKey]);
    await down.deps.store.merchants.upsert(m, 'file', hub.sim.sim.clock.now());
    const n = (id: string) =>
      signNotification({
        key: pubKey,
        apiV3Key: m.apiV3Key,
        resource: transactionResource(m.mchId),
        timestamp: now(),
        id,
      });
    const send = (x: SignedNotification) =>
      down.app.request(`/pay/${m.name}/notify`, {
        method: 'POST',
        headers: x.headers,
        body: x.body,
      });
    // The first notification stores (and caches the merchant); then the database goes away.
    expect((await send(n(`first-${now()}`))).status).toBe(204);
    await down.close();
    const res = await send(n(`second-${now()}`));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      code: 'FAIL',
      message: 'the notification could not be stored; WeChat Pay will retry',
    });
  });
});
