import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from './app';
import {
  APPID,
  authorization,
  jsapiOrder,
  keyForSerial,
  MCH_ID,
  MCH_ID2,
  merchantConfig,
  OPENID,
  OTHER_KEYS,
  type PayAnswer,
  payCall,
  type SignOptions,
  startPaySimulator,
  verifySigned,
} from './pay-test-helpers';
import type { RunningSimulator } from './server';
import { T0 } from './test-helpers';

let running: RunningSimulator;
let sim: Simulator;

beforeAll(async () => {
  running = await startPaySimulator();
  sim = running.sim;
});
afterAll(async () => {
  await running.close();
});
beforeEach(() => {
  sim.reset();
  sim.clock.set(T0);
});

const JSAPI = '/v3/pay/transactions/jsapi';
const REFUNDS = '/v3/refund/domestic/refunds';
const byOutTradeNo = (no: string) => `/v3/pay/transactions/out-trade-no/${no}?mchid=${MCH_ID}`;

const get = (path: string, opts?: SignOptions) =>
  payCall(running.url, sim, 'GET', path, undefined, opts);
const post = (path: string, body: unknown, opts?: SignOptions) =>
  payCall(running.url, sim, 'POST', path, body, opts);

/** Asserts the answer is signed by the key its Wechatpay-Serial names; returns that serial. */
function expectSigned(answer: PayAnswer): string {
  const serial = answer.res.headers.get('wechatpay-serial');
  const key = keyForSerial(sim.pay.keys(), serial);
  expect(key, `no published key for serial ${serial}`).toBeDefined();
  if (key) expect(verifySigned(answer.res.headers, answer.text, key)).toBe(true);
  expect(answer.res.headers.get('wechatpay-signature-type')).toBe('WECHATPAY2-SHA256-RSA2048');
  expect(answer.res.headers.get('wechatpay-timestamp')).toBe(String(sim.clock.now() / 1000));
  expect(answer.res.headers.get('request-id')).toMatch(/^[0-9A-F]{40}$/);
  return serial ?? '';
}

async function placeAndPay(outTradeNo: string, total = 100) {
  expect((await post(JSAPI, jsapiOrder(outTradeNo, total))).status).toBe(200);
  return sim.pay.pay(MCH_ID, outTradeNo);
}

describe('Authorization', () => {
  it('rejects a bad signature with WeChat debugging detail', async () => {
    const body = jsapiOrder('T_BADSIG_1');
    const { status, json, ...answer } = await post(JSAPI, body, {
      privateKey: OTHER_KEYS.privateKey,
      nonce: 'n0nce',
    });
    expect(status).toBe(401);
    const ts = String(T0 / 1000);
    const full = `POST\n${JSAPI}\n${ts}\nn0nce\n${JSON.stringify(body)}\n`;
    expect(json).toEqual({
      code: 'SIGN_ERROR',
      message: '错误的签名，验签失败',
      detail: {
        field: 'signature',
        issue: 'sign not match',
        location: 'authorization',
        sign_information: {
          method: 'POST',
          url: JSAPI,
          truncated_sign_message: `POST\n${JSAPI}\n${ts}\nn0nce\n{"appid"\n`,
          sign_message_length: Buffer.byteLength(full),
        },
      },
    });
    expectSigned({ status, json, ...answer });
    expect(sim.pay.order(MCH_ID, 'T_BADSIG_1')).toBeUndefined();
  });

  it('signs the query string too: a signature over another query fails', async () => {
    const path = byOutTradeNo('T_QUERY_1');
    const wrong = authorization(sim, 'GET', `/v3/pay/transactions/out-trade-no/T_QUERY_1`, '');
    expect((await get(path, { authorization: wrong })).status).toBe(401);
    expect((await get(path)).status).toBe(404);
  });

  it('allows 300 s of clock skew and rejects more with the documented message', async () => {
    const now = T0 / 1000;
    for (const timestamp of [now - 300, now + 300]) {
      expect((await get(byOutTradeNo('T_SKEW_1'), { timestamp })).status).toBe(404);
    }
    for (const timestamp of [now - 301, now + 301]) {
      const { status, json } = await get(byOutTradeNo('T_SKEW_1'), { timestamp });
      expect(status).toBe(401);
      expect(json).toEqual({
        code: 'SIGN_ERROR',
        message: 'Http头Authorization中的timestamp与发起请求的时间不得超过5分钟',
      });
    }
  });

  it('rejects an unknown mchid, a wrong serial_no, a missing or foreign header', async () => {
    const path = byOutTradeNo('T_AUTH_1');
    const cases: Array<[SignOptions, string]> = [
      [{ mchId: '1999999999' }, '商户未申请过证书。'],
      [{ serialNo: '1234567890ABCDEF1234567890ABCDEF12345678' }, '商户证书序列号有误。'],
      [{ authorization: 'WECHATPAY2-SHA256-RSA2048 mchid="1"' }, 'Http头Authorization值格式错误'],
      [{ authorization: 'Bearer abc' }, 'Http头Authorization认证类型不正确'],
    ];
    for (const [opts, message] of cases) {
      const answer = await get(path, opts);
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({ code: 'SIGN_ERROR', message });
      expectSigned(answer);
    }
    const bare = await fetch(`${running.url}${path}`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toEqual({
      code: 'SIGN_ERROR',
      message: 'Http头Authorization值格式错误',
    });
  });

  it('accepts the items in any order and a lower-case serial_no', async () => {
    const header = authorization(sim, 'GET', byOutTradeNo('T_ORDER_1'), '');
    const items = header.slice('WECHATPAY2-SHA256-RSA2048 '.length).split(',').reverse();
    const reordered = `WECHATPAY2-SHA256-RSA2048 ${items.join(', ')}`.replace(
      /serial_no="([^"]+)"/,
      (_m, s: string) => `serial_no="${s.toLowerCase()}"`,
    );
    expect((await get(byOutTradeNo('T_ORDER_1'), { authorization: reordered })).status).toBe(404);
  });
});

describe('JSAPI orders', () => {
  it('places an order once per out_trade_no and answers the same prepay_id for a retry', async () => {
    const first = await post(JSAPI, jsapiOrder('T_JSAPI_1'));
    expect(first.status).toBe(200);
    expect(Object.keys(first.json)).toEqual(['prepay_id']);
    expect(first.json.prepay_id).toMatch(/^wx20250115120000[0-9a-f]{20}$/);
    expectSigned(first);
    expect((await post(JSAPI, jsapiOrder('T_JSAPI_1'))).json).toEqual(first.json);
    const changed = await post(JSAPI, jsapiOrder('T_JSAPI_1', 200));
    expect(changed.status).toBe(400);
    expect(changed.json.code).toBe('INVALID_REQUEST');
    expect(String(changed.json.message)).toContain('订单号重复');
  });

  it('validates the body with PARAM_ERROR', async () => {
    const bad: unknown[] = [
      '{"appid":',
      jsapiOrder('T_PARAM_1', 0),
      jsapiOrder('T_PARAM_1', 100, { payer: {} }),
      jsapiOrder('short'),
      jsapiOrder('T_PARAM_1', 100, { notify_url: 'https://a.example/n?x=1' }),
      jsapiOrder('T_PARAM_1', 100, { amount: { total: 1, currency: 'USD' } }),
      { ...jsapiOrder('T_PARAM_1'), description: undefined },
    ];
    for (const body of bad) {
      const { status, json } = await post(JSAPI, body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.code).toBe('PARAM_ERROR');
      expect(typeof json.message).toBe('string');
    }
    const missing = await post(JSAPI, jsapiOrder('T_PARAM_1', 100, { payer: {} }));
    expect(missing.json.message).toContain('/body/payer/openid');
    const foreign = await post(JSAPI, jsapiOrder('T_PARAM_1', 100, { mchid: MCH_ID2 }));
    expect(foreign.json).toEqual({ code: 'PARAM_ERROR', message: 'mchid与请求签名的商户号不一致' });
  });

  it('queries an order before and after payment', async () => {
    await post(JSAPI, jsapiOrder('T_QUERY_2', 88, { attach: 'cart=42' }));
    const unpaid = await get(byOutTradeNo('T_QUERY_2'));
    expect(unpaid.json).toEqual({
      appid: APPID,
      mchid: MCH_ID,
      out_trade_no: 'T_QUERY_2',
      trade_type: 'JSAPI',
      trade_state: 'NOTPAY',
      trade_state_desc: '未支付',
      attach: 'cart=42',
      payer: { openid: OPENID },
      amount: { total: 88, currency: 'CNY', payer_currency: 'CNY' },
    });
    sim.clock.advance(90_000);
    const paid = sim.pay.pay(MCH_ID, 'T_QUERY_2');
    expect(sim.pay.pay(MCH_ID, 'T_QUERY_2')).toEqual(paid);
    const answer = await get(byOutTradeNo('T_QUERY_2'));
    expect(answer.json).toEqual({
      ...unpaid.json,
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      transaction_id: paid.transaction_id,
      bank_type: 'OTHERS',
      success_time: '2025-01-15T12:01:30+08:00',
      amount: { total: 88, payer_total: 88, currency: 'CNY', payer_currency: 'CNY' },
    });
    expect(paid.transaction_id).toMatch(/^420000000020250115\d{10}$/);
    const byId = await get(`/v3/pay/transactions/id/${paid.transaction_id}?mchid=${MCH_ID}`);
    expect(byId.json).toEqual(answer.json);
    expectSigned(byId);
  });

  it('answers 404 ORDER_NOT_EXIST for an unknown order and checks the mchid parameter', async () => {
    const missing = await get(byOutTradeNo('T_NONE_1'));
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ code: 'ORDER_NOT_EXIST', message: '订单不存在' });
    expectSigned(missing);
    const noMch = await get('/v3/pay/transactions/out-trade-no/T_NONE_1');
    expect(noMch.status).toBe(400);
    expect(noMch.json.code).toBe('PARAM_ERROR');
  });

  it('closes an unpaid order with a signed 204 and refuses to close a paid one', async () => {
    await post(JSAPI, jsapiOrder('T_CLOSE_1'));
    const closed = await post('/v3/pay/transactions/out-trade-no/T_CLOSE_1/close', {
      mchid: MCH_ID,
    });
    expect(closed.status).toBe(204);
    expect(closed.text).toBe('');
    expectSigned(closed);
    expect((await get(byOutTradeNo('T_CLOSE_1'))).json.trade_state).toBe('CLOSED');
    expect((await post(JSAPI, jsapiOrder('T_CLOSE_1'))).json.code).toBe('ORDER_CLOSED');
    expect(() => sim.pay.pay(MCH_ID, 'T_CLOSE_1')).toThrow(/CLOSED/);
    await placeAndPay('T_CLOSE_2');
    const paid = await post('/v3/pay/transactions/out-trade-no/T_CLOSE_2/close', { mchid: MCH_ID });
    expect(paid.status).toBe(400);
    expect(paid.json.code).toBe('ORDERPAID');
    const none = await post('/v3/pay/transactions/out-trade-no/T_NONE_2/close', { mchid: MCH_ID });
    expect(none.status).toBe(404);
  });
});

describe('refunds', () => {
  const refundBody = (outRefundNo: string, refund: number, total = 100) => ({
    out_trade_no: 'T_REFUND_1',
    out_refund_no: outRefundNo,
    reason: '商品已售完',
    amount: { refund, total, currency: 'CNY' },
  });

  it('refuses unpaid, unknown, over-total and inconsistent refunds', async () => {
    await post(JSAPI, jsapiOrder('T_REFUND_1'));
    const unpaid = await post(REFUNDS, refundBody('R_1', 10));
    expect(unpaid.status).toBe(400);
    expect(unpaid.json.code).toBe('INVALID_REQUEST');
    const unknown = await post(REFUNDS, { ...refundBody('R_1', 10), out_trade_no: 'T_NONE_3' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('RESOURCE_NOT_EXISTS');
    sim.pay.pay(MCH_ID, 'T_REFUND_1');
    const over = await post(REFUNDS, refundBody('R_1', 101));
    expect(over.status).toBe(400);
    expect(over.json.code).toBe('INVALID_REQUEST');
    expect((await post(REFUNDS, refundBody('R_1', 10, 99))).json.code).toBe('PARAM_ERROR');
    const { out_trade_no: _omit, ...neither } = refundBody('R_1', 10);
    expect((await post(REFUNDS, neither)).json.code).toBe('PARAM_ERROR');
  });

  it('creates PROCESSING refunds up to the total, then reports SUCCESS once it succeeds', async () => {
    const paid = await placeAndPay('T_REFUND_1');
    const created = await post(REFUNDS, refundBody('R_2', 60));
    expect(created.status).toBe(200);
    expectSigned(created);
    expect(created.json).toMatchObject({
      out_refund_no: 'R_2',
      transaction_id: paid.transaction_id,
      out_trade_no: 'T_REFUND_1',
      channel: 'ORIGINAL',
      status: 'PROCESSING',
      create_time: '2025-01-15T12:00:00+08:00',
      amount: { refund: 60, total: 100, payer_refund: 60, currency: 'CNY' },
    });
    expect(created.json.refund_id).toMatch(/^5020250115\d{19}$/);
    expect(created.json.success_time).toBeUndefined();
    expect((await post(REFUNDS, refundBody('R_2', 60))).json).toEqual(created.json);
    expect((await post(REFUNDS, refundBody('R_2', 50))).json.code).toBe('INVALID_REQUEST');
    expect((await post(REFUNDS, refundBody('R_3', 41))).json.code).toBe('INVALID_REQUEST');
    expect((await post(REFUNDS, refundBody('R_3', 40))).status).toBe(200);
    expect((await get(byOutTradeNo('T_REFUND_1'))).json.trade_state).toBe('REFUND');
    expect((await get(`${REFUNDS}/R_2`)).json).toEqual(created.json);
    sim.clock.advance(60_000);
    sim.pay.refundSucceeds('R_2');
    const done = await get(`${REFUNDS}/R_2`);
    expect(done.json).toEqual({
      ...created.json,
      status: 'SUCCESS',
      success_time: '2025-01-15T12:01:00+08:00',
    });
    expect(() => sim.pay.refundSucceeds('R_NONE')).toThrow(/unknown out_refund_no/);
  });

  it('answers 404 RESOURCE_NOT_EXISTS for an unknown refund', async () => {
    const { status, json } = await get(`${REFUNDS}/R_NONE`);
    expect(status).toBe(404);
    expect(json.code).toBe('RESOURCE_NOT_EXISTS');
  });
});

describe('routing, faults and reset', () => {
  it('answers a signed 404 NOT_FOUND for any other /v3/ path or method', async () => {
    for (const answer of [await get('/v3/pay/transactions/native'), await get(JSAPI)]) {
      expect(answer.status).toBe(404);
      expect(answer.json.code).toBe('NOT_FOUND');
      expectSigned(answer);
    }
  });

  it("marks its answer to a /v3/ path it does not play as the simulator's", async () => {
    const answer = await get('/v3/pay/transactions/native');
    expect(String(answer.json.message)).toContain(
      'wxhub simulator: not a simulated WeChat Pay API',
    );
    expect(answer.res.headers.get('x-wxhub-simulator')).toBe('unknown-path');
    const known = await get(`/v3/pay/transactions/out-trade-no/T_NONE?mchid=${MCH_ID}`);
    expect(known.res.headers.get('x-wxhub-simulator')).toBeNull();
  });

  it('counts pay calls by path and merchant and applies status, code and delay faults', async () => {
    const path = '/v3/pay/transactions/out-trade-no/T_FAULT_1';
    sim.injectFault({ path, status: 500 });
    const failed = await get(`${path}?mchid=${MCH_ID}`);
    expect(failed.status).toBe(500);
    expect(failed.json).toEqual({ code: 'SYSTEM_ERROR', message: '系统错误' });
    expectSigned(failed);
    sim.injectFault({ path: JSAPI, code: 'FREQUENCY_LIMITED', appId: MCH_ID });
    const limited = await post(JSAPI, jsapiOrder('T_FAULT_1'));
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ code: 'FREQUENCY_LIMITED', message: '频率超限' });
    sim.injectFault({ path: JSAPI, delayMs: 20 });
    expect((await post(JSAPI, jsapiOrder('T_FAULT_1'))).status).toBe(200);
    expect((await get(`${path}?mchid=${MCH_ID}`)).status).toBe(200);
    expect(sim.calls(path)).toBe(2);
    expect(sim.calls(JSAPI, MCH_ID)).toBe(2);
    await get(path, { mchId: '1999999999' });
    expect(sim.counters().byPath[path]).toBe(3);
    expect(sim.calls(path, MCH_ID)).toBe(2);
    expect(() => sim.injectFault({ path: JSAPI, errcode: -1 })).toThrow(/use code/);
    expect(() => sim.injectFault({ path: '/cgi-bin/token', code: 'SYSTEM_ERROR' })).toThrow(
      /\/v3\//,
    );
  });

  it('reset forgets orders, refunds and tampers but keeps merchants and keys', async () => {
    const keys = sim.pay.keys();
    await placeAndPay('T_RESET_1');
    sim.pay.tamperNextResponse('unsigned');
    sim.reset();
    const after = await get(byOutTradeNo('T_RESET_1'));
    expect(after.status).toBe(404);
    expectSigned(after);
    expect(sim.pay.keys()).toEqual(keys);
    expect(sim.calls('/v3/pay/transactions/out-trade-no/T_RESET_1')).toBe(1);
  });

  it('validates merchant registrations', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ apiV3Key: 'short' }, /apiV3Key must be exactly 32 bytes/],
      [{ publicKey: 'not a key' }, /publicKey must be the PEM of an RSA public key/],
      [{ mchId: 'abc' }, /mchId/],
      [{ mode: 'both' }, /mode/],
    ];
    for (const [over, message] of bad) {
      expect(() => sim.pay.registerMerchant({ ...merchantConfig(), ...over })).toThrow(message);
    }
    const privatePem = OTHER_KEYS.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => sim.pay.registerMerchant(merchantConfig({ publicKey: privatePem }))).toThrow(
      /publicKey/,
    );
  });
});
