import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simSuiteOf } from '../../dev/demo-suite';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import { AUTHORIZER_STATUS_KIND, NO_EXPIRY } from '../../shared/component/authorizers';
import type { AppConfig } from '../../shared/config';
import { createLogger } from '../../shared/http/log';
import { listen } from '../../shared/platform/server';
import type { Store } from '../../shared/store';
import { countedStore, testTargets } from '../../shared/store/testing';
import { TENANT_BATCH } from '../../shared/tokens/batch-refresh';
import { runRefreshPass } from '../../shared/tokens/refresh-pass';
import { cancelCorp } from '../../shared/wecom-suite/corps';
import { AUTH, createTestHub, type TestHub } from '../testing';
import { testSuiteApp } from './testing';

const Q = '/qyapi/cgi-bin/service';
const SUITE_TOKEN = `${Q}/get_suite_token`;
const CORP_TOKEN = `${Q}/get_corp_token`;

let serial = 0;
/** A fresh corpid per corp (tests share the file's database). */
const newCorp = () => `wwp${Date.now().toString(36)}${String(serial++).padStart(5, '0')}`;

/** A suite app with a unique name and suite id. */
const suiteApp = () => testSuiteApp('corps');

describe.each(testTargets())('the refresh pass renews corp tokens on $name', (target) => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(async () => {
    await sim.close();
  });

  /** A hub on real HTTP serving a new suite registered in the simulator, with a ticket pushed. */
  async function serve() {
    const app = suiteApp();
    const hub = await createTestHub(target, { apps: [app], sim });
    const server = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
    sim.sim.wecomSuites.register(simSuiteOf(app, server.url));
    await sim.sim.wecomSuites.pushTicket(app.appId);
    const close = async () => {
      await server.close();
      await hub.close();
    };
    return { app, hub, close };
  }

  /**
   * `n` corps installed earlier (in the simulator and in the store: sealed permanent code,
   * status, a token due within the next 10 minutes); `withCode: false` leaves the permanent code
   * out (a corp whose code is gone).
   */
  async function seedCorps(hub: TestHub, app: AppConfig, n: number, withCode = true) {
    const now = sim.sim.clock.now();
    const ids = Array.from({ length: n }, () => newCorp());
    await hub.deps.store.credentials.transaction(async (repo) => {
      for (const [i, corpId] of ids.entries()) {
        const owner = `authorizer:${app.name}:${corpId}`;
        const permanent = `pc_seed_${corpId}`;
        if (withCode) {
          sim.sim.wecomSuites.grantCorp(app.appId, corpId, permanent);
          await repo.put(
            { owner, kind: 'corp_permanent_code' },
            { value: permanent, expiresAt: NO_EXPIRY },
            now,
          );
        }
        await repo.put(
          { owner, kind: AUTHORIZER_STATUS_KIND },
          { value: 'authorized', expiresAt: NO_EXPIRY },
          now,
        );
        // Spread over the next 10 minutes: some urgent, all inside the window.
        const expiresAt = now + 60_000 + ((i * 8 * 60_000) / Math.max(1, n - 1) || 0);
        await repo.put(
          { owner, kind: 'corp_access_token' },
          { value: `seed-${corpId}`, expiresAt },
          now,
        );
      }
    });
    return ids;
  }

  it('due corps go in batches: the store calls do not grow with their number, one get_corp_token each, cancelled corps untouched', async () => {
    const { app, hub, close } = await serve();
    const pass = (store: Store = hub.deps.store) =>
      runRefreshPass({ ...hub.deps, store, refreshAheadSeconds: undefined });
    const calls = (corps: readonly string[]) =>
      corps.map((c) => sim.sim.calls(CORP_TOKEN, c)).reduce((a, b) => a + b, 0);
    try {
      // Two corps installed, then cancelled: their secrets are cleared.
      const cancelled = [newCorp(), newCorp()];
      for (const corp of cancelled) {
        await sim.sim.wecomSuites.createAuth(app.appId, corp);
        let status = 0;
        for (let i = 0; i < 100 && status !== 200; i++) {
          const res = await hub.app.request(`/v1/suites/${app.name}/corps/${corp}/token`, {
            headers: AUTH,
          });
          status = res.status;
          if (status !== 200) await new Promise((r) => setTimeout(r, 50));
        }
        expect(status).toBe(200);
        await sim.sim.wecomSuites.cancelAuth(app.appId, corp);
      }
      const cancelledCalls = calls(cancelled);
      // The suite token and everything else due first, so that what follows is the corps' work.
      await pass();
      const suiteCalls = sim.sim.calls(SUITE_TOKEN, app.appId);

      const few = await seedCorps(hub, app, 20);
      const small = countedStore(hub.deps.store);
      const first = await pass(small.store);
      // This file's first suite: nothing else in its database is due.
      expect(first.failed).toEqual([]);
      expect(first.refreshed).toBe(20);
      for (const corp of few) expect(sim.sim.calls(CORP_TOKEN, corp)).toBe(1);

      const many = await seedCorps(hub, app, TENANT_BATCH + 10);
      const large = countedStore(hub.deps.store);
      const second = await pass(large.store);
      expect(second.failed).toEqual([]);
      expect(second.refreshed).toBe(many.length);
      for (const corp of many) expect(sim.sim.calls(CORP_TOKEN, corp)).toBe(1);

      // Per batch (one lease UPDATE, one read of the permanent codes, one commit), never per
      // corp: the one-row reads and leases of the token manager are not used.
      const batches = Math.ceil(many.length / TENANT_BATCH);
      expect(large.counts.get('claimDueLeases')).toBe(batches);
      expect(large.counts.get('getManyOfKind')).toBe(batches);
      expect(large.counts.get('get') ?? 0).toBe(small.counts.get('get') ?? 0);
      expect(large.counts.get('claimLease') ?? 0).toBe(0);
      const total = (c: Map<string, number>) => [...c.values()].reduce((a, b) => a + b, 0);
      const perBatch = ['claimDueLeases', 'getManyOfKind', 'transaction'];
      const rest = (c: Map<string, number>) =>
        total(c) - perBatch.reduce((a, m) => a + (c.get(m) ?? 0), 0);
      expect(rest(large.counts)).toBe(rest(small.counts));
      expect(large.counts.get('transaction')).toBe(batches);

      // The suite token was had from the manager: no new get_suite_token.
      expect(sim.sim.calls(SUITE_TOKEN, app.appId)).toBe(suiteCalls);
      // Cancelled corps: no call, their rows still without a value.
      expect(calls(cancelled)).toBe(cancelledCalls);
      for (const corp of cancelled) {
        const row = await hub.deps.store.credentials.get({
          owner: `authorizer:${app.name}:${corp}`,
          kind: 'corp_access_token',
        });
        expect(row?.value).toBeUndefined();
      }
      // Nothing is due again at once; the renewed tokens work.
      const again = await pass();
      expect(again.refreshed).toBe(0);
      expect(calls([...few, ...many])).toBe(few.length + many.length);
      const res = await hub.app.request(`/v1/suites/${app.name}/corps/${many[0]}/token`, {
        headers: AUTH,
      });
      const body = (await res.json()) as { accessToken: string };
      expect(sim.sim.wecomSuites.isCorpTokenValid(body.accessToken)).toBe(true);
    } finally {
      await close();
    }
  });

  it('a corp cancelled while the pass fetches its token keeps no token: the answer is not written back', async () => {
    const { app, hub, close } = await serve();
    const pass = () => runRefreshPass({ ...hub.deps, refreshAheadSeconds: undefined });
    try {
      await pass();
      const [corp = ''] = await seedCorps(hub, app, 1);
      // WeCom's answer to the token request is on its way (slowly) when the corp's cancel_auth
      // reaches the hub and is acted on: the batch gets a token it must not keep.
      sim.sim.injectFault({ path: CORP_TOKEN, delayMs: 600 });
      const running = pass();
      await new Promise((r) => setTimeout(r, 200));
      await cancelCorp(hub.deps, await hub.deps.apps.require(app.name), corp);
      const summary = await running;
      expect(summary.failed).toEqual([]);
      expect(sim.sim.calls(CORP_TOKEN, corp)).toBe(1);
      const owner = `authorizer:${app.name}:${corp}`;
      for (const kind of ['corp_access_token', 'corp_permanent_code']) {
        const row = await hub.deps.store.credentials.get({ owner, kind });
        expect(row?.value, kind).toBeUndefined();
      }
      const res = await hub.app.request(`/v1/suites/${app.name}/corps/${corp}/token`, {
        headers: AUTH,
      });
      expect(res.status).toBe(410);
    } finally {
      await close();
    }
  });

  it('a corp whose permanent code is gone is refused without a call; without a ticket, one line for the suite and no call', async () => {
    const { app, hub, close } = await serve();
    const pass = () => runRefreshPass({ ...hub.deps, refreshAheadSeconds: undefined });
    try {
      await pass();
      const [lost] = await seedCorps(hub, app, 1, false);
      const summary = await pass();
      expect(summary.failed.filter((f) => f.app === app.name)).toEqual([
        {
          app: app.name,
          credential: 'corp_access_token',
          error: expect.stringContaining(`corp ${lost}: `),
        },
      ]);
      expect(sim.sim.calls(CORP_TOKEN, lost)).toBe(0);

      // Suite token and ticket gone: the due corps are reported once, nothing is asked of WeCom.
      const due = await seedCorps(hub, app, 3);
      await hub.deps.store.credentials.clearValue(
        { owner: `app:${app.name}`, kind: 'suite_ticket' },
        sim.sim.clock.now(),
      );
      await hub.deps.store.credentials.clearValue(
        { owner: `app:${app.name}`, kind: 'suite_access_token' },
        sim.sim.clock.now(),
      );
      hub.deps.tokens.forget();
      const without = await pass();
      const corpLines = without.failed.filter(
        (f) => f.app === app.name && f.credential === 'corp_access_token',
      );
      expect(corpLines).toEqual([
        {
          app: app.name,
          credential: 'corp_access_token',
          error: expect.stringMatching(/^4 corp tokens due and not renewed: .*suite_ticket/),
        },
      ]);
      for (const corp of due) expect(sim.sim.calls(CORP_TOKEN, corp)).toBe(0);
    } finally {
      await close();
    }
  });

  it('a suite token WeCom stopped accepting (40082) is renewed once for the batch; every corp is renewed', async () => {
    const { app, hub, close } = await serve();
    const pass = () => runRefreshPass({ ...hub.deps, refreshAheadSeconds: undefined });
    try {
      await pass();
      const stored = await hub.deps.store.credentials.get({
        owner: `app:${app.name}`,
        kind: 'suite_access_token',
      });
      expect(sim.sim.wecomSuites.killToken(stored?.value ?? '')).toBe(true);
      const suiteCalls = sim.sim.calls(SUITE_TOKEN, app.appId);
      const corps = await seedCorps(hub, app, 5);
      const summary = await pass();
      // (earlier tests' suites share the file's database: only this suite's entries count)
      expect(summary.failed.filter((f) => f.app === app.name)).toEqual([]);
      expect(sim.sim.calls(SUITE_TOKEN, app.appId)).toBe(suiteCalls + 1);
      for (const corp of corps) {
        const row = await hub.deps.store.credentials.get({
          owner: `authorizer:${app.name}:${corp}`,
          kind: 'corp_access_token',
        });
        expect(sim.sim.wecomSuites.isCorpTokenValid(row?.value ?? '')).toBe(true);
      }
    } finally {
      await close();
    }
  });
});
