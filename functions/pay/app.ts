import { type Context, Hono } from 'hono';
import { answerJson, createBaseApp, type HubEnv } from '../../shared/http/app';
import { AppError } from '../../shared/http/errors';
import { payCall, payJson } from '../../shared/pay/client';
import { clientPayParams, nonceStr } from '../../shared/pay/crypto';
import { merchantKeys, payContext } from '../../shared/pay/merchant';
import type { Deps } from '../../shared/platform/deps';
import type { MerchantRecord } from '../../shared/store';
import { parseExactJson, stringifyExactJson } from '../../shared/wechat/exact-json';
import { proxySegments, upstreamPath } from '../../shared/wechat/proxy-path';

/** Order and refund numbers as WeChat Pay accepts them (letters, digits, `_-|*@`). */
const TRADE_NO = /^[A-Za-z0-9_\-|*@]{1,64}$/;

function tradeNo(value: string, what: string): string {
  if (!TRADE_NO.test(value)) {
    throw new AppError('BAD_REQUEST', `${what} must be 1 to 64 letters, digits or _-|*@`);
  }
  return encodeURIComponent(value);
}

async function jsonBody(c: Context<HubEnv>): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    // Read exactly: a 64-bit number in a caller's body reaches WeChat Pay digit for digit.
    body = parseExactJson(await c.req.text());
  } catch {
    throw new AppError('BAD_REQUEST', 'body must be a JSON object');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('BAD_REQUEST', 'body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `notify_url` as given, else this hub's own notify route under `WXHUB_PUBLIC_URL`. */
function notifyUrl(deps: Deps, m: MerchantRecord, given: unknown): string {
  if (given !== undefined) {
    if (typeof given !== 'string' || !/^https?:\/\/[^\s?#]+$/.test(given)) {
      throw new AppError('BAD_REQUEST', 'notify_url must be an http(s) URL without query');
    }
    return given;
  }
  if (deps.config.publicUrl === undefined) {
    throw new AppError(
      'BAD_REQUEST',
      'notify_url is required unless WXHUB_PUBLIC_URL is set (then it defaults to {WXHUB_PUBLIC_URL}/pay/{merchant}/notify)',
    );
  }
  return `${deps.config.publicUrl}/pay/${m.name}/notify`;
}

/** Checks the fields a JSAPI order needs, with a message naming the first missing one. */
function checkJsapiOrder(body: Record<string, unknown>): void {
  if (typeof body.description !== 'string' || body.description === '') {
    throw new AppError('BAD_REQUEST', 'description is required');
  }
  if (typeof body.out_trade_no !== 'string') {
    throw new AppError('BAD_REQUEST', 'out_trade_no is required');
  }
  tradeNo(body.out_trade_no, 'out_trade_no');
  const amount = body.amount;
  if (!isObject(amount) || !Number.isInteger(amount.total) || (amount.total as number) <= 0) {
    throw new AppError('BAD_REQUEST', 'amount.total is required: a positive whole number of fen');
  }
  if (!isObject(body.payer) || typeof body.payer.openid !== 'string' || body.payer.openid === '') {
    throw new AppError('BAD_REQUEST', 'payer.openid is required');
  }
}

/**
 * Routes of the pay function (internal, bearer auth like every `/v1/` route): JSAPI / mini-program
 * orders with client payment parameters, order query and close, refunds, and a signing proxy.
 */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  const merchant = (c: Context<HubEnv>) => deps.merchants.require(c.req.param('merchant') ?? '');

  r.post('/v1/pay/:merchant/jsapi', async (c) => {
    const m = await merchant(c);
    const body = await jsonBody(c);
    const appid = body.appid ?? m.appId;
    if (typeof appid !== 'string' || appid === '') {
      throw new AppError('BAD_REQUEST', `appid is required: merchant "${m.name}" has no appId`);
    }
    checkJsapiOrder(body);
    const order = {
      ...body,
      appid,
      mchid: m.mchId,
      notify_url: notifyUrl(deps, m, body.notify_url),
    };
    const answer = await payJson<{ prepay_id?: unknown }>(
      payContext(deps, m),
      'POST',
      '/v3/pay/transactions/jsapi',
      order,
    );
    if (typeof answer?.prepay_id !== 'string') {
      throw new AppError('UPSTREAM_WECHAT', 'WeChat Pay answered the order without prepay_id');
    }
    const params = clientPayParams(
      merchantKeys(m).privateKey,
      appid,
      answer.prepay_id,
      Math.floor(deps.clock.now() / 1000),
      nonceStr(),
    );
    return c.json({ prepayId: answer.prepay_id, payParams: params });
  });

  r.get('/v1/pay/:merchant/transactions/:outTradeNo', async (c) => {
    const m = await merchant(c);
    const no = tradeNo(c.req.param('outTradeNo'), 'out_trade_no');
    const path = `/v3/pay/transactions/out-trade-no/${no}?mchid=${m.mchId}`;
    return answerJson(
      c,
      stringifyExactJson((await payJson(payContext(deps, m), 'GET', path)) ?? {}),
    );
  });

  r.post('/v1/pay/:merchant/transactions/:outTradeNo/close', async (c) => {
    const m = await merchant(c);
    const no = tradeNo(c.req.param('outTradeNo'), 'out_trade_no');
    const path = `/v3/pay/transactions/out-trade-no/${no}/close`;
    await payJson(payContext(deps, m), 'POST', path, { mchid: m.mchId });
    return c.body(null, 204);
  });

  r.post('/v1/pay/:merchant/refunds', async (c) => {
    const m = await merchant(c);
    const body = await jsonBody(c);
    if (typeof body.out_refund_no !== 'string') {
      throw new AppError('BAD_REQUEST', 'out_refund_no is required');
    }
    tradeNo(body.out_refund_no, 'out_refund_no');
    if (typeof body.out_trade_no !== 'string' && typeof body.transaction_id !== 'string') {
      throw new AppError('BAD_REQUEST', 'out_trade_no or transaction_id is required');
    }
    const amount = body.amount;
    if (!isObject(amount) || !Number.isInteger(amount.refund) || !Number.isInteger(amount.total)) {
      throw new AppError('BAD_REQUEST', 'amount.refund and amount.total are required (fen)');
    }
    const refund = { ...body, notify_url: notifyUrl(deps, m, body.notify_url) };
    const answer = await payJson(
      payContext(deps, m),
      'POST',
      '/v3/refund/domestic/refunds',
      refund,
    );
    return answerJson(c, stringifyExactJson(answer ?? {}));
  });

  r.get('/v1/pay/:merchant/refunds/:outRefundNo', async (c) => {
    const m = await merchant(c);
    const no = tradeNo(c.req.param('outRefundNo'), 'out_refund_no');
    const answer = await payJson(payContext(deps, m), 'GET', `/v3/refund/domestic/refunds/${no}`);
    return answerJson(c, stringifyExactJson(answer ?? {}));
  });

  r.all('/v1/pay/:merchant/proxy/:path{.+}', async (c) => {
    const m = await merchant(c);
    const url = new URL(c.req.url);
    // Both parameters come decoded from the route; the raw URL is never sliced.
    const path = `/${upstreamPath(proxySegments(c.req.param('path')))}`;
    if (!path.startsWith('/v3/')) {
      throw new AppError('BAD_REQUEST', 'the proxied path must start with v3/');
    }
    const method = c.req.method;
    const hasBody = method !== 'GET' && method !== 'HEAD' && method !== 'DELETE';
    const body = hasBody ? await c.req.text() : undefined;
    const type = c.req.header('content-type');
    const res = await payCall(
      payContext(deps, m),
      method,
      `${path}${url.search}`,
      body === '' ? undefined : body,
      type === undefined ? {} : { headers: { 'content-type': type } },
    );
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'request-id']) {
      const v = res.headers.get(name);
      if (v !== null) headers[name] = v;
    }
    headers['x-wxhub-verified'] = res.verified ? '1' : '0';
    if (res.status === 204 || res.status === 304) return c.body(null, res.status, headers);
    return c.body(new Uint8Array(res.body), res.status as 200, headers);
  });
  return r;
}

/** The pay function as a standalone app. */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
