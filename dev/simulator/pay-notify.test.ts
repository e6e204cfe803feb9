import { createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from './app';
import type { PayKeysExport } from './pay-keys';
import {
  API_V3_KEY,
  aeadDecrypt,
  jsapiOrder,
  keyForSerial,
  MCH_ID,
  MCH_ID2,
  MCH_SERIAL,
  merchantConfig,
  payCall,
  startPaySimulator,
  verifySigned,
} from './pay-test-helpers';
import type { RunningSimulator } from './server';
import { T0 } from './test-helpers';

interface NotificationBody {
  id: string;
  create_time: string;
  resource_type: string;
  event_type: string;
  summary: string;
  resource: {
    original_type: string;
    algorithm: string;
    ciphertext: string;
    associated_data: string;
    nonce: string;
  };
}

/** What a receiver saw: whether the signature verified, and the decrypted resource. */
interface Received {
  verified: boolean;
  body: NotificationBody;
  resource: Record<string, unknown>;
}

/** Verify and decrypt a notification the way a merchant must. */
function receive(headers: Record<string, string>, raw: string, keys: PayKeysExport): Received {
  const key = keyForSerial(keys, headers['Wechatpay-Serial'] ?? headers['wechatpay-serial'] ?? '');
  const body = JSON.parse(raw) as NotificationBody;
  const { nonce, associated_data, ciphertext } = body.resource;
  const plain = aeadDecrypt(API_V3_KEY, nonce, associated_data, ciphertext);
  const verified = key !== undefined && verifySigned(headers, raw, key);
  return { verified, body, resource: JSON.parse(plain) as Record<string, unknown> };
}

let running: RunningSimulator;
let sim: Simulator;
let receiver: Server;
let receiverUrl: string;
const inbox: Received[] = [];

beforeAll(async () => {
  running = await startPaySimulator([{ mchId: MCH_ID2, mode: 'certificate' }]);
  sim = running.sim;
  receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => {
      raw += chunk.toString('utf8');
    });
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, String(v)]),
      );
      const got = receive(headers, raw, sim.pay.keys());
      inbox.push(got);
      if (got.verified) res.writeHead(204).end();
      else res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"FAIL"}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/pay/notify`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await running.close();
});
beforeEach(() => {
  sim.reset();
  sim.clock.set(T0);
  inbox.length = 0;
});

async function paidOrder(outTradeNo: string) {
  const res = await payCall(
    running.url,
    sim,
    'POST',
    '/v3/pay/transactions/jsapi',
    jsapiOrder(outTradeNo),
  );
  expect(res.status).toBe(200);
  return sim.pay.pay(MCH_ID, outTradeNo);
}

describe('pay notifications', () => {
  it('builds TRANSACTION.SUCCESS signed with the public key and encrypted with the APIv3 key', async () => {
    const paid = await paidOrder('T_NOTIFY_1');
    const n = sim.pay.notification({
      mchId: MCH_ID,
      eventType: 'TRANSACTION.SUCCESS',
      outTradeNo: 'T_NOTIFY_1',
    });
    const keys = sim.pay.keys();
    expect(n.headers['Wechatpay-Serial']).toBe(keys.publicKeyId);
    expect(n.headers['Wechatpay-Timestamp']).toBe(String(T0 / 1000));
    expect(n.headers['Wechatpay-Signature-Type']).toBe('WECHATPAY2-SHA256-RSA2048');
    expect(n.headers['Content-Type']).toBe('application/json');
    expect(verifySigned(n.headers, n.body, createPublicKey(keys.publicKey))).toBe(true);
    const got = receive(n.headers, n.body, keys);
    expect(got.verified).toBe(true);
    expect(got.body).toMatchObject({
      create_time: '2025-01-15T12:00:00+08:00',
      resource_type: 'encrypt-resource',
      event_type: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      resource: {
        original_type: 'transaction',
        algorithm: 'AEAD_AES_256_GCM',
        associated_data: 'transaction',
      },
    });
    expect(got.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(got.resource).toEqual(paid);
    expect(Object.keys(JSON.parse(n.body) as object)).toEqual([
      'id',
      'create_time',
      'resource_type',
      'event_type',
      'summary',
      'resource',
    ]);
  });

  it('signs with the platform certificate for a certificate-mode merchant or when asked', async () => {
    const keys = sim.pay.keys();
    const certSerial = keys.certificates[0]?.serialNo;
    const byMode = sim.pay.notification({
      mchId: MCH_ID2,
      eventType: 'TRANSACTION.SUCCESS',
      outTradeNo: 'T_SYNTH_1',
    });
    expect(byMode.headers['Wechatpay-Serial']).toBe(certSerial);
    const got = receive(byMode.headers, byMode.body, keys);
    expect(got.verified).toBe(true);
    expect(got.resource).toMatchObject({
      mchid: MCH_ID2,
      out_trade_no: 'T_SYNTH_1',
      trade_state: 'SUCCESS',
    });
    const asked = sim.pay.notification({
      mchId: MCH_ID,
      eventType: 'TRANSACTION.SUCCESS',
      keyMode: 'certificate',
      id: 'EV-1',
    });
    expect(asked.headers['Wechatpay-Serial']).toBe(certSerial);
    expect(receive(asked.headers, asked.body, keys)).toMatchObject({
      verified: true,
      body: { id: 'EV-1' },
    });
    const pkForCertMerchant = sim.pay.notification({
      mchId: MCH_ID2,
      eventType: 'REFUND.CLOSED',
      keyMode: 'publicKey',
    });
    expect(pkForCertMerchant.headers['Wechatpay-Serial']).toBe(keys.publicKeyId);
    expect(receive(pkForCertMerchant.headers, pkForCertMerchant.body, keys).verified).toBe(true);
  });

  it('describes stored refunds in REFUND.* events', async () => {
    const paid = await paidOrder('T_NOTIFY_2');
    const refund = await payCall(running.url, sim, 'POST', '/v3/refund/domestic/refunds', {
      out_trade_no: 'T_NOTIFY_2',
      out_refund_no: 'R_NOTIFY_2',
      amount: { refund: 30, total: 100, currency: 'CNY' },
    });
    sim.clock.advance(5_000);
    sim.pay.refundSucceeds('R_NOTIFY_2', MCH_ID);
    const n = sim.pay.notification({
      mchId: MCH_ID,
      eventType: 'REFUND.SUCCESS',
      outRefundNo: 'R_NOTIFY_2',
    });
    const got = receive(n.headers, n.body, sim.pay.keys());
    expect(got.body.summary).toBe('退款成功');
    expect(got.body.resource).toMatchObject({ original_type: 'refund', associated_data: 'refund' });
    expect(got.resource).toEqual({
      mchid: MCH_ID,
      out_trade_no: 'T_NOTIFY_2',
      transaction_id: paid.transaction_id,
      out_refund_no: 'R_NOTIFY_2',
      refund_id: refund.json.refund_id,
      refund_status: 'SUCCESS',
      success_time: '2025-01-15T12:00:05+08:00',
      user_received_account: '支付用户零钱',
      amount: { total: 100, refund: 30, payer_total: 100, payer_refund: 30 },
    });
    const abnormal = sim.pay.notification({
      mchId: MCH_ID,
      eventType: 'REFUND.ABNORMAL',
      outRefundNo: 'R_X',
    });
    const synthetic = receive(abnormal.headers, abnormal.body, sim.pay.keys());
    expect(synthetic.body.summary).toBe('退款异常');
    expect(synthetic.resource).toMatchObject({ out_refund_no: 'R_X', refund_status: 'ABNORMAL' });
    expect(synthetic.resource.success_time).toBeUndefined();
  });

  it('encrypts a given resource as is, and refuses unknown merchants and unpaid orders', async () => {
    const resource = { anything: ['goes', 1] };
    const n = sim.pay.notification({ mchId: MCH_ID, eventType: 'REFUND.CLOSED', resource });
    expect(receive(n.headers, n.body, sim.pay.keys()).resource).toEqual(resource);
    expect(() => sim.pay.notification({ mchId: '1999999999', eventType: 'REFUND.CLOSED' })).toThrow(
      /unknown mchId/,
    );
    await payCall(running.url, sim, 'POST', '/v3/pay/transactions/jsapi', jsapiOrder('T_UNPAID_1'));
    expect(() =>
      sim.pay.notification({
        mchId: MCH_ID,
        eventType: 'TRANSACTION.SUCCESS',
        outTradeNo: 'T_UNPAID_1',
      }),
    ).toThrow(/NOTPAY/);
  });

  it('POSTs notifications to a receiver, tampered ones included', async () => {
    const ok = await sim.pay.sendNotification(receiverUrl, {
      mchId: MCH_ID,
      eventType: 'TRANSACTION.SUCCESS',
    });
    expect(ok).toEqual({ status: 204, body: '' });
    const probe = await sim.pay.sendNotification(receiverUrl, {
      mchId: MCH_ID2,
      eventType: 'TRANSACTION.SUCCESS',
      tamper: 'signtest',
    });
    expect(probe).toEqual({ status: 401, body: '{"code":"FAIL"}' });
    expect(inbox.map((r) => r.verified)).toEqual([true, false]);
    expect(inbox[1]?.resource.mchid).toBe(MCH_ID2);
  });
});

describe('/__sim/pay control routes', () => {
  const ctl = (method: string, path: string, body?: unknown) =>
    fetch(`${running.url}/__sim${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('registers merchants, pays orders, sends notifications and exposes keys', async () => {
    const bad = await ctl('POST', '/pay/merchants', {
      ...merchantConfig({ mchId: '1900000999' }),
      apiV3Key: 'x',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('apiV3Key');
    const reg = await ctl(
      'POST',
      '/pay/merchants',
      merchantConfig({ mchId: '1900000999', mode: 'certificate' }),
    );
    expect(await reg.json()).toEqual({ ok: true });
    const placed = await payCall(
      running.url,
      sim,
      'POST',
      '/v3/pay/transactions/jsapi',
      jsapiOrder('T_CTL_1', 100, { mchid: '1900000999' }),
      { mchId: '1900000999', serialNo: MCH_SERIAL },
    );
    expect(placed.status).toBe(200);
    const paid = await ctl('POST', '/pay/orders/pay', {
      mchId: '1900000999',
      outTradeNo: 'T_CTL_1',
    });
    expect(((await paid.json()) as { trade_state: string }).trade_state).toBe('SUCCESS');
    expect(
      (await ctl('POST', '/pay/orders/pay', { mchId: MCH_ID, outTradeNo: 'T_NONE' })).status,
    ).toBe(400);
    const sent = await ctl('POST', '/pay/notify', {
      url: receiverUrl,
      mchId: '1900000999',
      eventType: 'TRANSACTION.SUCCESS',
      outTradeNo: 'T_CTL_1',
    });
    expect(await sent.json()).toEqual({ status: 204, body: '' });
    expect(inbox[0]?.resource).toMatchObject({ out_trade_no: 'T_CTL_1', trade_state: 'SUCCESS' });
    const keys = (await (await ctl('GET', '/pay/keys')).json()) as PayKeysExport;
    expect(keys).toEqual(sim.pay.keys());
    const unreachable = await ctl('POST', '/pay/notify', {
      url: 'http://127.0.0.1:1/nowhere',
      mchId: MCH_ID,
      eventType: 'REFUND.CLOSED',
    });
    expect(unreachable.status).toBe(502);
    expect(
      (
        await ctl('POST', '/pay/notify', {
          url: receiverUrl,
          mchId: '42',
          eventType: 'REFUND.CLOSED',
        })
      ).status,
    ).toBe(400);
  });

  it('tampers, rotates and retires through control routes', async () => {
    expect((await ctl('POST', '/pay/tamper', { mode: 'unsigned' })).status).toBe(200);
    expect((await ctl('POST', '/pay/tamper', { mode: 'other' })).status).toBe(400);
    const query = `/v3/pay/transactions/out-trade-no/T_CTL_2?mchid=${MCH_ID}`;
    const unsigned = await payCall(running.url, sim, 'GET', query);
    expect(unsigned.res.headers.get('wechatpay-signature')).toBeNull();
    const before = sim.pay.keys().certificates[0]?.serialNo ?? '';
    const rotated = (await (await ctl('POST', '/pay/certificates/rotate')).json()) as {
      serialNo: string;
    };
    expect(sim.pay.keys().certificates.map((c) => c.serialNo)).toEqual([rotated.serialNo, before]);
    expect((await ctl('DELETE', `/pay/certificates/${rotated.serialNo}`)).status).toBe(400);
    expect((await ctl('DELETE', `/pay/certificates/${before}`)).status).toBe(200);
    expect(sim.pay.keys().certificates.map((c) => c.serialNo)).toEqual([rotated.serialNo]);
    const signed = await payCall(running.url, sim, 'GET', query);
    expect(signed.res.headers.get('wechatpay-serial')).toBe(rotated.serialNo);
  });
});
