import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { Simulator } from './app';
import { badRequest, readBody } from './control-io';
import { simMerchantSchema } from './pay';
import { PAY_TAMPERS } from './pay-crypto';
import { payNotificationSchema } from './pay-notify';

const notifySchema = payNotificationSchema.extend({
  url: z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL' }),
});
const paySchema = z.strictObject({ mchId: z.string().min(1), outTradeNo: z.string().min(1) });
const refundSchema = z.strictObject({
  outRefundNo: z.string().min(1),
  mchId: z.string().min(1).optional(),
});
const tamperSchema = z.strictObject({ mode: z.enum(PAY_TAMPERS) });

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Run a simulator call that throws on bad input: its JSON result, or 400 `{"error"}`. */
function attempt(c: Context, action: () => unknown): Response {
  try {
    return c.json(action() ?? { ok: true });
  } catch (error) {
    return badRequest(c, messageOf(error));
  }
}

/**
 * `/__sim/pay/…` control routes (WeChat Pay), mirroring `sim.pay`: merchants, payments, refunds,
 * notifications, keys, certificate rotation and response tampering.
 */
export function addPayControlRoutes(ctl: Hono, sim: Simulator): void {
  ctl.post('/pay/merchants', async (c) => {
    const body = await readBody(c, simMerchantSchema);
    return body.ok ? attempt(c, () => sim.pay.registerMerchant(body.value)) : body.response;
  });
  ctl.post('/pay/orders/pay', async (c) => {
    const body = await readBody(c, paySchema);
    if (!body.ok) return body.response;
    return attempt(c, () => sim.pay.pay(body.value.mchId, body.value.outTradeNo));
  });
  ctl.post('/pay/refunds/succeed', async (c) => {
    const body = await readBody(c, refundSchema);
    if (!body.ok) return body.response;
    return attempt(c, () => sim.pay.refundSucceeds(body.value.outRefundNo, body.value.mchId));
  });
  ctl.post('/pay/notify', async (c) => {
    const body = await readBody(c, notifySchema);
    if (!body.ok) return body.response;
    const { url, ...opts } = body.value;
    try {
      sim.pay.notification(opts);
    } catch (error) {
      return badRequest(c, messageOf(error));
    }
    try {
      return c.json(await sim.pay.sendNotification(url, opts));
    } catch (error) {
      return c.json({ error: `notification to ${url} failed: ${messageOf(error)}` }, 502);
    }
  });
  addPayKeyRoutes(ctl, sim);
}

/** Keys, certificate rotation and response tampering. */
function addPayKeyRoutes(ctl: Hono, sim: Simulator): void {
  ctl.get('/pay/keys', (c) => c.json(sim.pay.keys()));
  ctl.post('/pay/certificates/rotate', (c) => c.json({ serialNo: sim.pay.rotateCertificate() }));
  ctl.delete('/pay/certificates/:serialNo', (c) =>
    attempt(c, () => sim.pay.retireCertificate(c.req.param('serialNo'))),
  );
  ctl.post('/pay/tamper', async (c) => {
    const body = await readBody(c, tamperSchema);
    return body.ok ? attempt(c, () => sim.pay.tamperNextResponse(body.value.mode)) : body.response;
  });
}
