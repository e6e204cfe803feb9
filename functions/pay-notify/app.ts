import { type Context, Hono } from 'hono';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import { AppError, CODE_TO_STATUS } from '../../shared/http/errors';
import { requestHeader } from '../../shared/http/headers';
import { receiveNotification } from '../../shared/pay/notify';
import type { Deps } from '../../shared/platform/deps';

/**
 * WeChat Pay's failure answer: any 4xx/5xx with this body makes it retry
 * (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_2_5.shtml).
 */
function fail(c: Context<HubEnv>, err: AppError): Response {
  return c.json({ code: 'FAIL', message: err.message }, CODE_TO_STATUS[err.code] as 400);
}

/** Routes of the pay-notify function: `POST /pay/{merchant}/notify` (docs/api.md). */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  r.post('/pay/:merchant/notify', async (c) => {
    try {
      const merchant = await deps.merchants.require(c.req.param('merchant'));
      const body = Buffer.from(await c.req.arrayBuffer());
      await receiveNotification(
        deps,
        merchant,
        {
          timestamp: requestHeader(c, 'wechatpay-timestamp'),
          nonce: requestHeader(c, 'wechatpay-nonce'),
          signature: requestHeader(c, 'wechatpay-signature'),
          serial: requestHeader(c, 'wechatpay-serial'),
        },
        body,
      );
      return c.body(null, 204);
    } catch (err) {
      if (!(err instanceof AppError)) {
        deps.log.error({ err: err instanceof Error ? err.name : 'unknown' }, 'pay notify failed');
        return fail(c, new AppError('INTERNAL', 'internal error; WeChat Pay will retry'));
      }
      if (err.code === 'UNAUTHORIZED' || err.code === 'BAD_REQUEST') {
        deps.log.warn(
          { merchant: c.req.param('merchant').slice(0, 64), reason: err.message },
          'pay notification refused',
        );
      }
      return fail(c, err);
    }
  });
  return r;
}

/** The pay-notify function as a standalone app. */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
