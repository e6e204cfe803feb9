import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import { testTargets } from '../../shared/store/testing';
import { jssdkSignature } from '../../shared/wechat/jssdk';
import { componentFixture, newAuthorizer } from '../component-fixture';

const AUTHORIZER_TOKEN = '/cgi-bin/component/api_authorizer_token';
const GETTICKET = '/cgi-bin/ticket/getticket';
const CODE2SESSION = '/sns/component/jscode2session';

type TokenBody = { appId: string; accessToken: string; expiresAt: string };
type TicketBody = { appId: string; ticket: string; expiresAt: string };
type ErrorBody = { error: { code: string; message: string; errcode?: number } };

describe.each(testTargets())(
  'authorizer tickets, invalidate and code2session on $name',
  (target) => {
    let sim: RunningSimulator;
    beforeAll(async () => {
      sim = await startSimulator();
    });
    afterAll(() => sim.close());

    const json = (body: unknown) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

    it('invalidate replaces only the current token, once; a second report within 30 s is held back', async () => {
      const f = await componentFixture(target, sim);
      const authorizer = newAuthorizer();
      const base = `/v1/components/${f.app.name}/authorizers/${authorizer}`;
      try {
        await f.authorize(authorizer);
        const first = (await (await f.request(`${base}/token`)).json()) as TokenBody;
        const invalidate = (accessToken: unknown) =>
          f.request(`${base}/token/invalidate`, json({ accessToken }));
        const [a, b] = await Promise.all([
          invalidate(first.accessToken),
          invalidate(first.accessToken),
        ]);
        const fresh = (await a.json()) as TokenBody;
        expect(a.status).toBe(200);
        expect(fresh.appId).toBe(authorizer);
        expect(fresh.accessToken).not.toBe(first.accessToken);
        expect(((await b.json()) as TokenBody).accessToken).toBe(fresh.accessToken);
        expect(sim.sim.isTokenValid(fresh.accessToken)).toBe(true);
        expect(sim.sim.calls(AUTHORIZER_TOKEN, f.app.appId)).toBe(1);
        // A stale report answers the current token without a call.
        const stale = (await (await invalidate(first.accessToken)).json()) as TokenBody;
        expect(stale.accessToken).toBe(fresh.accessToken);
        // The token route now serves the new one.
        const served = (await (await f.request(`${base}/token`)).json()) as TokenBody;
        expect(served.accessToken).toBe(fresh.accessToken);
        const held = (await (await invalidate(fresh.accessToken)).json()) as TokenBody & ErrorBody;
        expect(held.accessToken).toBe(fresh.accessToken);
        expect(held.error.code).toBe('RATE_LIMITED');
        expect(sim.sim.calls(AUTHORIZER_TOKEN, f.app.appId)).toBe(1);
        sim.sim.clock.advance(30_000);
        const later = (await (await invalidate(fresh.accessToken)).json()) as TokenBody;
        expect(later.accessToken).not.toBe(fresh.accessToken);
        expect(sim.sim.calls(AUTHORIZER_TOKEN, f.app.appId)).toBe(2);
        for (const bad of [undefined, '', 42]) expect((await invalidate(bad)).status).toBe(400);
      } finally {
        await f.close();
      }
    });

    it('serves jsapi and wx_card tickets fetched with the authorizer token, once each', async () => {
      const f = await componentFixture(target, sim);
      const authorizer = newAuthorizer();
      const base = `/v1/components/${f.app.name}/authorizers/${authorizer}`;
      try {
        await f.authorize(authorizer);
        const res = await f.request(`${base}/ticket?type=jsapi`);
        expect(res.status).toBe(200);
        const body = (await res.json()) as TicketBody;
        expect(body.appId).toBe(authorizer);
        expect(body.ticket).not.toBe('');
        expect(Date.parse(body.expiresAt) - sim.sim.clock.now()).toBe(7200 * 1000);
        const again = (await (await f.request(`${base}/ticket?type=jsapi`)).json()) as TicketBody;
        expect(again.ticket).toBe(body.ticket);
        const card = (await (await f.request(`${base}/ticket?type=wx_card`)).json()) as TicketBody;
        expect(card.ticket).not.toBe(body.ticket);
        expect(sim.sim.calls(GETTICKET, authorizer)).toBe(2);
        for (const q of ['', '?type=', '?type=nope']) {
          expect((await f.request(`${base}/ticket${q}`)).status).toBe(400);
        }
      } finally {
        await f.close();
      }
    });

    it('jssdk-config signs the page URL with the authorizer ticket and names the authorizer', async () => {
      const f = await componentFixture(target, sim);
      const authorizer = newAuthorizer();
      const base = `/v1/components/${f.app.name}/authorizers/${authorizer}`;
      try {
        await f.authorize(authorizer);
        const url = 'https://shop.example.com/page?a=1#frag';
        const res = await f.request(`${base}/jssdk-config?url=${encodeURIComponent(url)}`);
        expect(res.status).toBe(200);
        const cfg = (await res.json()) as {
          appId: string;
          timestamp: number;
          nonceStr: string;
          signature: string;
        };
        expect(cfg.appId).toBe(authorizer);
        expect(cfg.timestamp).toBe(Math.floor(sim.sim.clock.now() / 1000));
        const { ticket } = (await (
          await f.request(`${base}/ticket?type=jsapi`)
        ).json()) as TicketBody;
        expect(cfg.signature).toBe(
          jssdkSignature({ ticket, nonceStr: cfg.nonceStr, timestamp: cfg.timestamp, url }),
        );
        expect(sim.sim.calls(GETTICKET, authorizer)).toBe(1);
        for (const q of ['', '?url=', '?url=not-a-url']) {
          expect((await f.request(`${base}/jssdk-config${q}`)).status).toBe(400);
        }
      } finally {
        await f.close();
      }
    });

    it('code2session exchanges a login code with the component token; 61003 is a 502 that revokes nothing', async () => {
      const f = await componentFixture(target, sim);
      const authorizer = newAuthorizer();
      const gone = newAuthorizer();
      const path = (a: string) => `/v1/components/${f.app.name}/authorizers/${a}/code2session`;
      try {
        await f.authorize(authorizer);
        await f.authorize(gone);
        const code = sim.sim.issueLoginCode(authorizer, 'o-user-1', 'u-union-1');
        const res = await f.request(path(authorizer), json({ code }));
        expect(res.status).toBe(200);
        const session = (await res.json()) as Record<string, string>;
        expect(session).toMatchObject({ openid: 'o-user-1', unionid: 'u-union-1' });
        expect(typeof session.sessionKey).toBe('string');
        expect(sim.sim.calls(CODE2SESSION, f.app.appId)).toBe(1);
        for (const bad of [{}, { code: '' }, { code: 'has spaces' }]) {
          expect((await f.request(path(authorizer), json(bad))).status).toBe(400);
        }
        // The account revoked at WeChat, but the hub was not told: WeChat answers 61003.
        await sim.sim.unauthorize(f.app.appId, gone, `${f.hubs[0]?.server.url}/not-the-event-url`);
        const denied = await f.request(path(gone), json({ code: 'some-code' }));
        expect(denied.status).toBe(502);
        const err = (await denied.json()) as ErrorBody;
        expect(err.error.errcode).toBe(61003);
        expect(err.error.message).toContain(`${gone} has not authorized "${f.app.name}"`);
        const token = await f.request(`/v1/components/${f.app.name}/authorizers/${gone}/token`);
        expect(token.status).toBe(200);
      } finally {
        await f.close();
      }
    });

    it('every route: 401 without a key, 404 for an unknown component or another component’s authorizer, 410 once revoked', async () => {
      const f = await componentFixture(target, sim);
      const other = await componentFixture(target, sim);
      const authorizer = newAuthorizer();
      const routes = [
        { path: 'token/invalidate', init: json({ accessToken: 'x' }) },
        { path: 'ticket?type=jsapi', init: {} },
        { path: 'jssdk-config?url=https%3A%2F%2Fa.example%2F', init: {} },
        { path: 'code2session', init: json({ code: 'abc' }) },
      ];
      try {
        await f.authorize(authorizer);
        for (const { path, init } of routes) {
          const at = (component: string, a = authorizer) =>
            `/v1/components/${component}/authorizers/${a}/${path}`;
          expect((await f.hub.app.request(at(f.app.name), init)).status, path).toBe(401);
          expect((await f.request(at('no-such-component'), init)).status, path).toBe(404);
          expect((await f.request(at(other.app.name), init)).status, path).toBe(404);
          expect((await f.request(at(f.app.name, newAuthorizer()), init)).status, path).toBe(404);
        }
        await f.unauthorize(authorizer);
        for (const { path, init } of routes) {
          const res = await f.request(
            `/v1/components/${f.app.name}/authorizers/${authorizer}/${path}`,
            init,
          );
          expect(res.status, path).toBe(410);
          expect(((await res.json()) as ErrorBody).error.code).toBe('REVOKED');
        }
      } finally {
        await f.close();
        await other.close();
      }
    });

    it('3 hubs × 60 concurrent ticket reads of 2 authorizers: one getticket per authorizer', async () => {
      const f = await componentFixture(target, sim, 3);
      const authorizers = [newAuthorizer(), newAuthorizer()];
      try {
        for (const a of authorizers) await f.authorize(a);
        const reads = Array.from({ length: 60 }, (_, i) => {
          const a = authorizers[i % 2] ?? '';
          return f.request(`/v1/components/${f.app.name}/authorizers/${a}/ticket?type=jsapi`, {
            hub: i % 3,
          });
        });
        const answers = await Promise.all(reads);
        expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
        const bodies = await Promise.all(answers.map((r) => r.json() as Promise<TicketBody>));
        for (const a of authorizers) {
          const tickets = new Set(bodies.filter((b) => b.appId === a).map((b) => b.ticket));
          expect(tickets.size).toBe(1);
          expect(sim.sim.calls(GETTICKET, a)).toBe(1);
        }
      } finally {
        await f.close();
      }
    });

    it('the refresh pass renews a fetched ticket in its last 10 minutes; a revoked one is cleared and left alone', async () => {
      const f = await componentFixture(target, sim);
      const kept = newAuthorizer();
      const gone = newAuthorizer();
      const ticketOf = async (a: string) =>
        (await (
          await f.request(`/v1/components/${f.app.name}/authorizers/${a}/ticket?type=jsapi`)
        ).json()) as TicketBody;
      try {
        await f.authorize(kept);
        await f.authorize(gone);
        const first = await ticketOf(kept);
        await ticketOf(gone);
        await f.unauthorize(gone);
        const owner = `authorizer:${f.app.name}:${gone}`;
        const row = await f.hub.deps.store.credentials.get({ owner, kind: 'jsapi_ticket' });
        expect(row?.value).toBeUndefined();
        sim.sim.clock.advance(7200_000 - 5 * 60_000);
        await sim.sim.pushTicket(f.app.appId, f.eventUrl());
        const pass = await f.request('/v1/refresh', { method: 'POST' });
        const summary = (await pass.json()) as { failed: { app: string }[] };
        expect(summary.failed.filter((x) => x.app === f.app.name)).toEqual([]);
        expect(sim.sim.calls(GETTICKET, kept)).toBe(2);
        expect(sim.sim.calls(GETTICKET, gone)).toBe(1);
        const fresh = await ticketOf(kept);
        expect(fresh.ticket).not.toBe(first.ticket);
        expect(Date.parse(fresh.expiresAt) - sim.sim.clock.now()).toBe(7200 * 1000);
        expect(sim.sim.calls(GETTICKET, kept)).toBe(2);
      } finally {
        await f.close();
      }
    });
  },
);
