import { describe, expect, it } from 'vitest';
import { createSimulator } from './app';

const SUITE = {
  suiteId: 'wwsimsuite0001',
  suiteSecret: 'sim-suite-secret',
  token: 'SimToken1',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  providerCorpId: 'wwsimprovider',
};

/** A simulator with the suite registered, and a JSON caller for its `/qyapi` paths. */
function setup() {
  const sim = createSimulator();
  sim.wecomSuites.register(SUITE);
  const call = async (path: string, body?: unknown) => {
    const res = await sim.app.request(`/qyapi/cgi-bin/service${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  return { sim, call };
}

describe('simulated WeCom suites (/qyapi)', () => {
  it("answers WeCom's errcodes where they belong, and no errcode on success", async () => {
    const { sim, call } = setup();
    const { ticket } = await sim.wecomSuites.pushTicket(SUITE.suiteId);
    const ask = (over: Record<string, unknown>) =>
      call('/get_suite_token', {
        suite_id: SUITE.suiteId,
        suite_secret: SUITE.suiteSecret,
        suite_ticket: ticket,
        ...over,
      });
    expect((await ask({ suite_id: 'wwunknown' })).errcode).toBe(40083);
    expect((await ask({ suite_secret: 'wrong' })).errcode).toBe(40080);
    expect((await ask({ suite_ticket: 'st_old' })).errcode).toBe(40085);
    const ok = await ask({});
    expect(ok.errcode).toBeUndefined();
    expect(ok.expires_in).toBe(7200);
    const token = String(ok.suite_access_token);
    expect((await call('/get_pre_auth_code?suite_access_token=nope')).errcode).toBe(40082);

    const code = sim.wecomSuites.issueAuthCode(SUITE.suiteId, 'wwsimcorp');
    const exchange = () =>
      call(`/v2/get_permanent_code?suite_access_token=${token}`, { auth_code: code });
    const first = await exchange();
    expect(first).toMatchObject({ auth_corp_info: { corpid: 'wwsimcorp' } });
    // Single use.
    expect((await exchange()).errcode).toBe(40078);
    const corpToken = (pc: unknown) =>
      call(`/get_corp_token?suite_access_token=${token}`, {
        auth_corpid: 'wwsimcorp',
        permanent_code: pc,
      });
    expect((await corpToken('pc_wrong')).errcode).toBe(40084);
    expect((await corpToken(first.permanent_code)).errcode).toBeUndefined();
    expect(sim.calls('/qyapi/cgi-bin/service/get_corp_token', 'wwsimcorp')).toBe(2);

    // Two hours later the suite token has expired; 31 minutes after its push the ticket too.
    sim.clock.advance(2 * 3_600_000);
    expect((await call(`/get_pre_auth_code?suite_access_token=${token}`)).errcode).toBe(42009);
    expect((await ask({})).errcode).toBe(40085);
  });

  it('takes faults on its paths and counts calls by suite', async () => {
    const { sim, call } = setup();
    const { ticket } = await sim.wecomSuites.pushTicket(SUITE.suiteId);
    sim.injectFault({ path: '/qyapi/cgi-bin/service/get_suite_token', errcode: -1 });
    const body = { suite_id: SUITE.suiteId, suite_secret: SUITE.suiteSecret, suite_ticket: ticket };
    expect((await call('/get_suite_token', body)).errcode).toBe(-1);
    expect((await call('/get_suite_token', body)).errcode).toBeUndefined();
    expect(sim.calls('/qyapi/cgi-bin/service/get_suite_token', SUITE.suiteId)).toBe(2);
  });

  it('seeds corps installed earlier (grant-corps): their permanent codes get corp tokens; bad input is 400', async () => {
    const { sim, call } = setup();
    const { ticket } = await sim.wecomSuites.pushTicket(SUITE.suiteId);
    const suite = await call('/get_suite_token', {
      suite_id: SUITE.suiteId,
      suite_secret: SUITE.suiteSecret,
      suite_ticket: ticket,
    });
    const grant = (body: unknown) =>
      sim.app.request('/__sim/wecom-suites/grant-corps', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const corps = [
      { corpId: 'wwseeded1', permanentCode: 'pc_seeded_1' },
      { corpId: 'wwseeded2', permanentCode: 'pc_seeded_2' },
    ];
    const ok = await grant({ suiteId: SUITE.suiteId, corps });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ granted: 2 });
    const corpToken = (corpId: string, pc: string) =>
      call(`/get_corp_token?suite_access_token=${String(suite.suite_access_token)}`, {
        auth_corpid: corpId,
        permanent_code: pc,
      });
    const token = await corpToken('wwseeded2', 'pc_seeded_2');
    expect(token.errcode).toBeUndefined();
    expect(sim.wecomSuites.isCorpTokenValid(String(token.access_token))).toBe(true);
    // Another corp's code is refused, as WeCom does.
    expect((await corpToken('wwseeded1', 'pc_seeded_2')).errcode).toBe(40084);
    expect((await grant({ suiteId: 'wwunknown', corps })).status).toBe(400);
    expect((await grant({ suiteId: SUITE.suiteId, corps: [{ corpId: 'x' }] })).status).toBe(400);
  });
});
