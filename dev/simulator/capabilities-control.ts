import type { Hono } from 'hono';
import { z } from 'zod';
import type { Simulator } from './app';
import { badRequest, readBody } from './control-io';

const phoneCodeSchema = z.strictObject({
  appId: z.string().min(1),
  purePhoneNumber: z.string().regex(/^\d{4,20}$/, 'purePhoneNumber must be 4-20 digits'),
  countryCode: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional(),
  openid: z.string().min(1).optional(),
});

const subscriptionSchema = z.strictObject({
  appId: z.string().min(1),
  openid: z.string().min(1),
  templateId: z.string().min(1),
  count: z.number().int().min(1).max(1000).optional(),
});

const quotaSchema = z.strictObject({
  appId: z.string().min(1),
  used: z.number().int().min(0).max(100_000),
});

/**
 * Control routes of the capability endpoints (./capabilities.ts): `POST /__sim/phone-codes`
 * (a user taps getPhoneNumber: a single-use code), `POST /__sim/subscriptions` (a user accepts
 * one-time subscriptions of a template), `GET /__sim/subscribe-messages?appId=` (what was
 * sent), `POST /__sim/wxacode-quota` (set how much of the limited-code quota is spent).
 */
export function addCapabilityControlRoutes(ctl: Hono, sim: Simulator): void {
  ctl.post('/phone-codes', async (c) => {
    const body = await readBody(c, phoneCodeSchema);
    if (!body.ok) return body.response;
    const { appId, openid, ...phone } = body.value;
    try {
      return c.json({ code: sim.capabilities.issuePhoneCode(appId, phone, openid) });
    } catch (error) {
      return badRequest(c, error instanceof Error ? error.message : String(error));
    }
  });
  ctl.post('/subscriptions', async (c) => {
    const body = await readBody(c, subscriptionSchema);
    if (!body.ok) return body.response;
    const { appId, openid, templateId, count } = body.value;
    sim.capabilities.grantSubscription(appId, openid, templateId, count);
    return c.json({ ok: true });
  });
  ctl.get('/subscribe-messages', (c) =>
    c.json({ messages: sim.capabilities.subscribeMessages(c.req.query('appId') || undefined) }),
  );
  ctl.post('/wxacode-quota', async (c) => {
    const body = await readBody(c, quotaSchema);
    if (!body.ok) return body.response;
    sim.capabilities.setWxacodeQuotaUsed(body.value.appId, body.value.used);
    return c.json({ ok: true });
  });
}
