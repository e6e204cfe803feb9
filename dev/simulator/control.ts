import { Hono } from 'hono';
import { z } from 'zod';
import type { Simulator } from './app';
import { addCapabilityControlRoutes } from './capabilities-control';
import { badRequest, readBody } from './control-io';
import { simFaultSchema } from './faults';
import { addPayControlRoutes } from './pay-control';

/** Validation schema for {@link SimAppConfig}. */
export const simAppConfigSchema = z.strictObject({
  appId: z.string().min(1, 'appId must be a non-empty string'),
  secret: z.string().min(1, 'secret must be a non-empty string'),
  ipWhitelist: z.array(z.string().min(1)).optional(),
});

/** Validation schema for {@link SimComponentConfig}. */
export const simComponentConfigSchema = z.strictObject({
  appId: z.string().min(1, 'appId must be a non-empty string'),
  secret: z.string().min(1, 'secret must be a non-empty string'),
  token: z.string().min(1, 'token must be a non-empty string'),
  encodingAesKey: z.string().regex(/^[A-Za-z0-9+/]{43}$/, 'encodingAesKey must be 43 characters'),
  eventUrl: z.url().optional(),
  messageUrl: z.string().min(1).optional(),
});

const releaseTestSchema = z.strictObject({
  appId: z.string().min(1),
  url: z.string().min(1).optional(),
  authorizerAppId: z.string().min(1).optional(),
  waitMs: z.number().int().min(0).max(60_000).optional(),
});

const ticketPushSchema = z.strictObject({
  appId: z.string().min(1),
  url: z.url().optional(),
});

const authorizeSchema = z.strictObject({
  appId: z.string().min(1),
  authorizerAppId: z.string().min(1),
  url: z.url().optional(),
  withTokens: z.boolean().optional(),
  infoType: z.enum(['authorized', 'updateauthorized']).optional(),
  deliveries: z.number().int().min(1).max(10).optional(),
  nickName: z.string().min(1).max(64).optional(),
});

const invalidateRefreshSchema = z.strictObject({
  appId: z.string().min(1),
  authorizerAppId: z.string().min(1),
  listed: z.boolean().optional(),
});

const approveSchema = z.strictObject({
  appId: z.string().min(1),
  authorizerAppId: z.string().min(1),
  url: z.url().optional(),
  withTokens: z.boolean().optional(),
  infoType: z.enum(['authorized', 'updateauthorized']).optional(),
  deliveries: z.number().int().min(1).max(10).optional(),
});

const unauthorizeSchema = z.strictObject({
  appId: z.string().min(1),
  authorizerAppId: z.string().min(1),
  url: z.url().optional(),
});

const clockSchema = z.union([
  z.strictObject({ advanceMs: z.number() }),
  z.strictObject({ setMs: z.number() }),
]);

const killSchema = z.strictObject({ token: z.string().min(1) });

const loginCodeSchema = z.strictObject({
  appId: z.string().min(1),
  openid: z.string().min(1),
  unionid: z.string().min(1).optional(),
});

/**
 * The `/__sim/` control API (mounted by createSimulator): apps, components (ticket pushes), faults,
 * counters, clock,
 * token checks, login codes, reset and WeChat Pay (`/__sim/pay/…`). Bad input answers 400
 * `{"error": "…"}`.
 */
export function createControlRoutes(sim: Simulator): Hono {
  const ctl = new Hono();
  addSetupRoutes(ctl, sim);
  addInspectRoutes(ctl, sim);
  addPayControlRoutes(ctl, sim);
  addCapabilityControlRoutes(ctl, sim);
  ctl.all('*', (c) =>
    c.json({ error: `unknown control route ${c.req.method} ${c.req.path}` }, 404),
  );
  return ctl;
}

/** Routes that change simulator state: apps, faults, clock, login codes, reset. */
function addSetupRoutes(ctl: Hono, sim: Simulator): void {
  ctl.post('/apps', async (c) => {
    const body = await readBody(c, simAppConfigSchema);
    if (!body.ok) return body.response;
    sim.registerApp(body.value);
    return c.json({ ok: true });
  });
  ctl.post('/faults', async (c) => {
    const body = await readBody(c, simFaultSchema);
    if (!body.ok) return body.response;
    sim.injectFault(body.value);
    return c.json({ ok: true });
  });
  ctl.delete('/faults', (c) => {
    sim.clearFaults();
    return c.json({ ok: true });
  });
  ctl.post('/clock', async (c) => {
    const body = await readBody(c, clockSchema);
    if (!body.ok) return body.response;
    if ('advanceMs' in body.value) sim.clock.advance(body.value.advanceMs);
    else sim.clock.set(body.value.setMs);
    // A component with an eventUrl gets its ticket every 10 minutes of simulator time.
    await sim.pushDueTickets();
    return c.json({ now: sim.clock.now() });
  });
  ctl.post('/components', async (c) => {
    const body = await readBody(c, simComponentConfigSchema);
    if (!body.ok) return body.response;
    sim.registerComponent(body.value);
    return c.json({ ok: true });
  });
  ctl.post('/components/ticket', async (c) => {
    const body = await readBody(c, ticketPushSchema);
    if (!body.ok) return body.response;
    try {
      const pushed = await sim.pushTicket(body.value.appId, body.value.url);
      return c.json(pushed);
    } catch (error) {
      return badRequest(c, error instanceof Error ? error.message : String(error));
    }
  });
  // Stops the component's ticket pushes (WeChat's pushes broke) until api_start_push_ticket.
  ctl.post('/components/stop-pushes', async (c) => {
    const body = await readBody(c, ticketPushSchema.pick({ appId: true }));
    if (!body.ok) return body.response;
    try {
      sim.stopTicketPushes(body.value.appId);
      return c.json({ ok: true });
    } catch (error) {
      return badRequest(c, error instanceof Error ? error.message : String(error));
    }
  });
  ctl.post('/components/authorize', async (c) => {
    const body = await readBody(c, authorizeSchema);
    if (!body.ok) return body.response;
    const { appId, authorizerAppId, ...opts } = body.value;
    try {
      return c.json(await sim.authorize(appId, authorizerAppId, opts));
    } catch (error) {
      return badRequest(c, error instanceof Error ? error.message : String(error));
    }
  });
  // The admin on the next authorization page of this component approves this account.
  ctl.post('/components/approve', async (c) => {
    const body = await readBody(c, approveSchema);
    if (!body.ok) return body.response;
    const { appId, ...approval } = body.value;
    try {
      sim.approveNext(appId, approval);
      return c.json({ ok: true });
    } catch (error) {
      return badRequest(c, error instanceof Error ? error.message : String(error));
    }
  });
  ctl.post('/components/unauthorize', async (c) => {
    const body = await readBody(c, unauthorizeSchema);
    if (!body.ok) return body.response;
    const { appId, authorizerAppId, url } = body.value;
    try {
      return c.json(await sim.unauthorize(appId, authorizerAppId, url));
    } catch (error) {
      return badRequest(c, error instanceof Error ? error.message : String(error));
    }
  });
  // WeChat's full-network release test against the hub's message URL: `{passed, steps}`.
  ctl.post('/components/release-test', async (c) => {
    const body = await readBody(c, releaseTestSchema);
    if (!body.ok) return body.response;
    const { appId, ...opts } = body.value;
    try {
      return c.json(await sim.releaseTest(appId, opts));
    } catch (error) {
      return badRequest(c, error instanceof Error ? error.message : String(error));
    }
  });
  // Fault control: the stored refresh token goes stale (61023); the list holds the new one.
  ctl.post('/components/refresh-token/invalidate', async (c) => {
    const body = await readBody(c, invalidateRefreshSchema);
    if (!body.ok) return body.response;
    const { appId, authorizerAppId, listed } = body.value;
    try {
      sim.invalidateRefreshToken(appId, authorizerAppId, { listed });
      return c.json({ ok: true });
    } catch (error) {
      return badRequest(c, error instanceof Error ? error.message : String(error));
    }
  });
  ctl.get('/components/custom-messages', (c) =>
    c.json({ messages: sim.customMessages(c.req.query('authorizerAppId') || undefined) }),
  );
  ctl.post('/login-codes', async (c) => {
    const body = await readBody(c, loginCodeSchema);
    if (!body.ok) return body.response;
    const { appId, openid, unionid } = body.value;
    try {
      return c.json({ code: sim.issueLoginCode(appId, openid, unionid) });
    } catch (error) {
      return badRequest(c, error instanceof Error ? error.message : String(error));
    }
  });
  ctl.post('/tokens/kill', async (c) => {
    const body = await readBody(c, killSchema);
    if (!body.ok) return body.response;
    return c.json({ killed: sim.killToken(body.value.token) });
  });
  ctl.post('/reset', (c) => {
    sim.reset();
    return c.json({ ok: true });
  });
}

/** Read-only routes: calls, counters, clock, token checks. */
function addInspectRoutes(ctl: Hono, sim: Simulator): void {
  ctl.get('/calls', (c) => {
    const path = c.req.query('path');
    if (!path) return badRequest(c, 'query parameter "path" is required');
    return c.json({ calls: sim.calls(path, c.req.query('appId') || undefined) });
  });
  ctl.get('/counters', (c) => c.json(sim.counters()));
  ctl.get('/clock', (c) => c.json({ now: sim.clock.now() }));
  ctl.get('/tokens/check', (c) => {
    const token = c.req.query('access_token');
    if (!token) return badRequest(c, 'query parameter "access_token" is required');
    return c.json({ valid: sim.isTokenValid(token) });
  });
}
