import { verify } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../dev/simulator';
import type { MerchantConfig } from '../../shared/config';
import { signingMessage, signLines } from '../../shared/pay/crypto';
import { testTargets, uniqueName } from '../../shared/store/testing';
import { merchantKeyPair, newPublicKey, testMerchant } from '../pay-notify/testing';
import { AUTH, createTestHub, type TestHub } from '../testing';

const merchantKey = merchantKeyPair();
const APP_ID = 'wxd678efh567hg6787';

describe.each(testTargets())('pay routes on $name', (target) => {
  let hub: TestHub;
  let pubMode: MerchantConfig;
  let certMode: MerchantConfig;
  beforeAll(async () => {
    hub = await createTestHub(target, {
      apps: [],
      env: { WXHUB_PUBLIC_URL: 'https://hub.example.com' },
    });
    hub.sim.sim.clock.set(Date.now());
    const keys = hub.sim.sim.pay.keys();
    const register = (m: MerchantConfig, mode: 'publicKey' | 'certificate') =>
      hub.sim.sim.pay.registerMerchant({
        mchId: m.mchId,
        apiV3Key: m.apiV3Key,
        serialNo: m.serialNo,
        publicKey: merchantKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        mode,
      });
    // Public-key mode: the apps file names WeChat Pay's public key.
    pubMode = {
      ...testMerchant(merchantKey.privateKeyPem, [], { appId: APP_ID }),
      publicKeyId: keys.publicKeyId,
      publicKey: keys.publicKey,
    };
    // Certificate mode with nothing configured: certificates are downloaded.
    certMode = testMerchant(merchantKey.privateKeyPem, [], { appId: APP_ID });
    for (const [m, mode] of [
      [pubMode, 'publicKey'],
      [certMode, 'certificate'],
    ] as const) {
      register(m, mode);
      await hub.deps.store.merchants.upsert(m, 'file', hub.sim.sim.clock.now());
    }
  });
  afterAll(() => hub.close());

  const call = (method: string, path: string, body?: unknown) =>
    hub.app.request(path, {
      method,
      headers: { ...AUTH, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const order = (outTradeNo: string, over: Record<string, unknown> = {}) => ({
    description: 'wxhub test order',
    out_trade_no: outTradeNo,
    amount: { total: 100, currency: 'CNY' },
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    ...over,
  });

  it.each([
    ['public key', () => pubMode],
    ['downloaded certificates', () => certMode],
  ])(
    'creates a JSAPI order (%s) and answers client parameters whose paySign verifies',
    async (_mode, m) => {
      const no = uniqueName('T').replace(/-/g, '_');
      const res = await call('POST', `/v1/pay/${m().name}/jsapi`, order(no));
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        prepayId: string;
        payParams: Record<string, string>;
      };
      expect(body.prepayId).toMatch(/^wx/);
      const p = body.payParams;
      expect(p).toMatchObject({
        appId: APP_ID,
        package: `prepay_id=${body.prepayId}`,
        signType: 'RSA',
        timeStamp: expect.stringMatching(/^\d{10}$/),
        nonceStr: expect.stringMatching(/^[0-9A-Za-z]{32}$/),
      });
      const message = signingMessage([
        p.appId ?? '',
        p.timeStamp ?? '',
        p.nonceStr ?? '',
        p.package ?? '',
      ]);
      expect(
        verify('sha256', message, merchantKey.publicKey, Buffer.from(p.paySign ?? '', 'base64')),
      ).toBe(true);
      // The order reached WeChat Pay with the merchant's ids and this hub's notify URL.
      const placed = hub.sim.sim.pay.order(m().mchId, no);
      expect(placed).toMatchObject({ appid: APP_ID, mchid: m().mchId, trade_state: 'NOTPAY' });
    },
  );

  it('downloads the platform certificates once, under the lease, and reuses them', async () => {
    const before = hub.sim.sim.calls('/v3/certificates');
    for (let i = 0; i < 3; i++) {
      const no = uniqueName('C').replace(/-/g, '_');
      expect((await call('POST', `/v1/pay/${certMode.name}/jsapi`, order(no))).status).toBe(200);
    }
    expect(hub.sim.sim.calls('/v3/certificates') - before).toBe(0);
    expect(hub.sim.sim.calls('/v3/certificates')).toBe(1);
  });

  const notify = (n: { headers: Record<string, string>; body: string }, m: MerchantConfig) =>
    hub.app.request(`/pay/${m.name}/notify`, { method: 'POST', headers: n.headers, body: n.body });

  it("takes a paid order's notification from WeChat Pay in both key modes, end to end", async () => {
    for (const [m, keyMode] of [
      [pubMode, 'publicKey'],
      [certMode, 'certificate'],
    ] as const) {
      const no = uniqueName('E').replace(/-/g, '_');
      expect((await call('POST', `/v1/pay/${m.name}/jsapi`, order(no))).status).toBe(200);
      hub.sim.sim.pay.pay(m.mchId, no);
      const n = hub.sim.sim.pay.notification({
        mchId: m.mchId,
        eventType: 'TRANSACTION.SUCCESS',
        outTradeNo: no,
        keyMode,
      });
      expect((await notify(n, m)).status).toBe(204);
      const id = (JSON.parse(n.body) as { id: string }).id;
      const stored = await hub.deps.store.payNotifications.get(m.name, id);
      expect(stored?.resource).toMatchObject({ out_trade_no: no, trade_state: 'SUCCESS' });
    }
  });

  it('re-downloads certificates on the refresh pass within 12 h', async () => {
    const first = (await (await call('POST', '/v1/refresh')).json()) as { refreshed: number };
    expect(first.refreshed).toBe(0);
    hub.sim.sim.clock.advance(12 * 3600_000 - 5 * 60_000);
    const before = hub.sim.sim.calls('/v3/certificates');
    const pass = (await (await call('POST', '/v1/refresh')).json()) as {
      refreshed: number;
      failed: unknown[];
    };
    expect(pass).toMatchObject({ refreshed: 1, failed: [] });
    expect(hub.sim.sim.calls('/v3/certificates') - before).toBe(1);
  });

  it('downloads again when a new certificate signs, at most once per 5 minutes', async () => {
    hub.sim.sim.clock.advance(5 * 60_000); // the refresh pass just downloaded
    const serial = hub.sim.sim.pay.rotateCertificate();
    const no = uniqueName('R').replace(/-/g, '_');
    const before = hub.sim.sim.calls('/v3/certificates');
    // The answer is signed by the new certificate: fetched, checked, answered.
    expect((await call('POST', `/v1/pay/${certMode.name}/jsapi`, order(no))).status).toBe(200);
    expect(hub.sim.sim.calls('/v3/certificates') - before).toBe(1);
    hub.sim.sim.pay.pay(certMode.mchId, no);
    const n = hub.sim.sim.pay.notification({
      mchId: certMode.mchId,
      eventType: 'TRANSACTION.SUCCESS',
      outTradeNo: no,
      keyMode: 'certificate',
    });
    expect(new Headers(n.headers).get('wechatpay-serial')).toBe(serial);
    expect((await notify(n, certMode)).status).toBe(204);

    // Right after a download, unknown serials are refused without another one.
    hub.sim.sim.pay.rotateCertificate();
    const refused = await call('POST', `/v1/pay/${certMode.name}/jsapi`, order(`${no}_2`));
    expect(refused.status).toBe(502);
    expect(hub.sim.sim.calls('/v3/certificates') - before).toBe(1);
    hub.sim.sim.clock.advance(5 * 60_000);
    expect((await call('POST', `/v1/pay/${certMode.name}/jsapi`, order(`${no}_3`))).status).toBe(
      200,
    );
    expect(hub.sim.sim.calls('/v3/certificates') - before).toBe(2);
  });

  it("answers WeChat Pay's errors as 502 with its status and code", async () => {
    const res = await call('GET', `/v1/pay/${pubMode.name}/transactions/NO_SUCH_ORDER`);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { message: string; upstream: unknown } };
    expect(body.error.message).toMatch(/404 ORDER_NOT_EXIST/);
    expect(body.error.upstream).toMatchObject({ status: 404, code: 'ORDER_NOT_EXIST' });
  });

  it.each([
    ['unsigned', /without a signature/],
    ['bad-signature', /does not verify/],
    ['signtest', /signature probe/],
  ] as const)('refuses an answer that is %s', async (mode, message) => {
    hub.sim.sim.pay.tamperNextResponse(mode);
    const no = uniqueName('S').replace(/-/g, '_');
    const res = await call('POST', `/v1/pay/${pubMode.name}/jsapi`, order(no));
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
  });

  it('proxies any v3 call signed, and returns the verified answer as it is', async () => {
    const no = uniqueName('P').replace(/-/g, '_');
    expect((await call('POST', `/v1/pay/${pubMode.name}/jsapi`, order(no))).status).toBe(200);
    const res = await call(
      'GET',
      `/v1/pay/${pubMode.name}/proxy/v3/pay/transactions/out-trade-no/${no}?mchid=${pubMode.mchId}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-wxhub-verified')).toBe('1');
    expect(await res.json()).toMatchObject({ out_trade_no: no, trade_state: 'NOTPAY' });
    const missing = await call(
      'GET',
      `/v1/pay/${pubMode.name}/proxy/v3/pay/transactions/out-trade-no/NOPE?mchid=${pubMode.mchId}`,
    );
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'ORDER_NOT_EXIST' });
    expect((await call('GET', `/v1/pay/${pubMode.name}/proxy/cgi-bin/token`)).status).toBe(400);
  });

  it('derives the proxied path from the decoded merchant name', async () => {
    const no = uniqueName('E').replace(/-/g, '_');
    expect((await call('POST', `/v1/pay/${pubMode.name}/jsapi`, order(no))).status).toBe(200);
    expect(pubMode.name).toContain('-');
    const encoded = pubMode.name.replace('-', '%2D');
    const res = await call(
      'GET',
      `/v1/pay/${encoded}/proxy/v3/pay/transactions/out-trade-no/${no}?mchid=${pubMode.mchId}`,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ out_trade_no: no });
  });

  it('takes proxied bodies past WXHUB_BODY_LIMIT_BYTES, up to WXHUB_PROXY_BODY_LIMIT_BYTES', async () => {
    const big = { mchid: pubMode.mchId, pad: 'x'.repeat(2 * 1024 * 1024) };
    const path = `/v1/pay/${pubMode.name}/proxy/v3/pay/transactions/out-trade-no/BIG1/close`;
    const res = await call('POST', path, big);
    expect(res.status).not.toBe(413);
    expect(res.headers.get('x-wxhub-verified')).toBe('1');
  });

  it.each([
    ['no description', order('B1', { description: undefined }), /description/],
    ['bad out_trade_no', order('has space'), /out_trade_no/],
    ['no amount', order('B2', { amount: undefined }), /amount.total/],
    ['fractional amount', order('B3', { amount: { total: 1.5 } }), /amount.total/],
    ['no payer', order('B4', { payer: undefined }), /payer.openid/],
    ['notify_url with query', order('B5', { notify_url: 'https://x.example/n?a=1' }), /notify_url/],
  ])('refuses a JSAPI order with %s (400, nothing sent)', async (_name, body, message) => {
    const before = hub.sim.sim.calls('/v3/pay/transactions/jsapi');
    const res = await call('POST', `/v1/pay/${pubMode.name}/jsapi`, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    expect(hub.sim.sim.calls('/v3/pay/transactions/jsapi')).toBe(before);
  });

  it('answers 404 for an unknown merchant, 401 without a key, 400 for a body that is not JSON', async () => {
    expect((await call('POST', '/v1/pay/no-such-mch/jsapi', order('U1'))).status).toBe(404);
    const anonymous = await hub.app.request(`/v1/pay/${pubMode.name}/jsapi`, {
      method: 'POST',
      body: JSON.stringify(order('U2')),
    });
    expect(anonymous.status).toBe(401);
    const notJson = await hub.app.request(`/v1/pay/${pubMode.name}/jsapi`, {
      method: 'POST',
      headers: AUTH,
      body: '{',
    });
    expect(notJson.status).toBe(400);
  });
});

describe.each(testTargets())('pay routes when WeChat Pay is unreachable, on $name', (target) => {
  it('answers 503 UNAVAILABLE (a dependency down), not 502', async () => {
    const sim = await startSimulator();
    const hub = await createTestHub(target, { apps: [], sim });
    try {
      const m = testMerchant(merchantKey.privateKeyPem, [], { appId: APP_ID });
      const keys = sim.sim.pay.keys();
      await hub.deps.store.merchants.upsert(
        { ...m, publicKeyId: keys.publicKeyId, publicKey: keys.publicKey },
        'file',
        sim.sim.clock.now(),
      );
      await sim.close();
      const res = await hub.app.request(`/v1/pay/${m.name}/transactions/T-unreachable-1`, {
        headers: AUTH,
      });
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('UNAVAILABLE');
      expect(body.error.message).toContain('unreachable');
    } finally {
      await hub.close();
    }
  });
});

describe.each(testTargets())('pay routes read WeChat Pay answers exactly, on $name', (target) => {
  it('answers a 64-bit number in WeChat Pay’s JSON digit for digit', async () => {
    const key = newPublicKey();
    const answer = '{"out_trade_no":"T-exact-1","trade_state":"SUCCESS","batch":23456789012345113}';
    // WeChat Pay as far as this route goes: one signed JSON answer over real HTTP.
    const server = createServer((_req, res) => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = 'n0nce0000000000000000000000000000';
      res.writeHead(200, {
        'content-type': 'application/json',
        'wechatpay-timestamp': timestamp,
        'wechatpay-nonce': nonce,
        'wechatpay-serial': key.serial,
        'wechatpay-signature': signLines(key.privateKey, [timestamp, nonce, answer]),
      });
      res.end(answer);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const hub = await createTestHub(target, { apps: [], env: { WECHATPAY_API_BASE: base } });
    try {
      const m = testMerchant(merchantKey.privateKeyPem, [key], { appId: APP_ID });
      await hub.deps.store.merchants.upsert(m, 'file', Date.now());
      const res = await hub.app.request(`/v1/pay/${m.name}/transactions/T-exact-1`, {
        headers: AUTH,
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(answer);
    } finally {
      await hub.close();
      await new Promise((r) => server.close(r));
    }
  });
});
