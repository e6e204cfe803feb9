import { Hono } from 'hono';
import { answerJson, createBaseApp, type HubEnv } from '../../shared/http/app';
import { AppError } from '../../shared/http/errors';
import { mount } from '../../shared/http/routes';
import { payCall, payJson } from '../../shared/pay/client';
import { clientPayParams, nonceStr } from '../../shared/pay/crypto';
import { merchantKeys, payContext } from '../../shared/pay/merchant';
import type { Deps } from '../../shared/platform/deps';
import type { MerchantRecord } from '../../shared/store';
import { stringifyExactJson } from '../../shared/wechat/exact-json';
import { proxySegments, upstreamPath } from '../../shared/wechat/proxy-path';
import * as api from './api';

/** `notify_url` as given (checked by the declaration), else this hub's own notify route. */
function notifyUrl(deps: Deps, m: MerchantRecord, given: string | undefined): string {
  if (given !== undefined) return given;
  if (deps.config.publicUrl === undefined) {
    throw new AppError(
      'BAD_REQUEST',
      'notify_url is required unless WXHUB_PUBLIC_URL is set (then it defaults to {WXHUB_PUBLIC_URL}/pay/{merchant}/notify)',
    );
  }
  return `${deps.config.publicUrl}/pay/${m.name}/notify`;
}

/**
 * Routes of the pay function (internal, bearer auth like every `/v1/` route): JSAPI / mini-program
 * orders with client payment parameters, order query and close, refunds, and a signing proxy.
 */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  const merchant = (name: string) => deps.merchants.require(name);

  mount(r, api.payJsapi, async (c, { params, body }) => {
    const m = await merchant(params.merchant);
    const appid = body.appid ?? m.appId;
    if (appid === undefined || appid === '') {
      throw new AppError('BAD_REQUEST', `appid is required: merchant "${m.name}" has no appId`);
    }
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
    const payParams = clientPayParams(
      merchantKeys(m).privateKey,
      appid,
      answer.prepay_id,
      Math.floor(deps.clock.now() / 1000),
      nonceStr(),
    );
    return c.json({ prepayId: answer.prepay_id, payParams: payParams });
  });

  mount(r, api.payTransaction, async (c, { params }) => {
    const m = await merchant(params.merchant);
    const no = encodeURIComponent(params.outTradeNo);
    const path = `/v3/pay/transactions/out-trade-no/${no}?mchid=${m.mchId}`;
    return answerJson(
      c,
      stringifyExactJson((await payJson(payContext(deps, m), 'GET', path)) ?? {}),
    );
  });

  mount(r, api.payClose, async (c, { params }) => {
    const m = await merchant(params.merchant);
    const no = encodeURIComponent(params.outTradeNo);
    const path = `/v3/pay/transactions/out-trade-no/${no}/close`;
    await payJson(payContext(deps, m), 'POST', path, { mchid: m.mchId });
    return c.body(null, 204);
  });

  mount(r, api.payRefund, async (c, { params, body }) => {
    const m = await merchant(params.merchant);
    const refund = { ...body, notify_url: notifyUrl(deps, m, body.notify_url) };
    const answer = await payJson(
      payContext(deps, m),
      'POST',
      '/v3/refund/domestic/refunds',
      refund,
    );
    return answerJson(c, stringifyExactJson(answer ?? {}));
  });

  mount(r, api.payRefundGet, async (c, { params }) => {
    const m = await merchant(params.merchant);
    const no = encodeURIComponent(params.outRefundNo);
    const answer = await payJson(payContext(deps, m), 'GET', `/v3/refund/domestic/refunds/${no}`);
    return answerJson(c, stringifyExactJson(answer ?? {}));
  });

  mount(r, api.payProxy, async (c, { params }) => {
    const m = await merchant(params.merchant);
    const url = new URL(c.req.url);
    // Both parameters come decoded from the route; the raw URL is never sliced.
    const path = `/${upstreamPath(proxySegments(params.path))}`;
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
