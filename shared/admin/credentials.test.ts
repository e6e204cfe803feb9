import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, createTestHub, type TestHub, testWecomApp } from '../../functions/testing';
import { AppError } from '../http/errors';
import { testTargets } from '../store/testing';
import { refreshCredential } from './credentials';

describe.each(testTargets())("the console's refresh now, for WeCom apps, on $name", (target) => {
  const app = testWecomApp();
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [app] });
  });
  afterAll(() => hub.close());

  it("fetches a new WeCom token with gettoken (one call) and refuses a kind WeCom apps don't have", async () => {
    await hub.app.request(`/v1/apps/${app.name}/token`, { headers: AUTH });
    const key = { owner: `app:${app.name}`, kind: 'access_token' };
    const before = await hub.deps.store.credentials.get(key);
    const row = await refreshCredential(hub.deps, key);
    expect(hub.sim.sim.calls('/qyapi/cgi-bin/gettoken', app.appId)).toBe(2);
    expect(row.value).not.toBe(before?.value);
    expect(hub.sim.sim.wecom.isValid(row.value ?? '')).toBe(true);
    const ticket = { owner: `app:${app.name}`, kind: 'jsapi_ticket' };
    await hub.deps.store.credentials.ensure(ticket, hub.sim.sim.clock.now());
    const refused = await refreshCredential(hub.deps, ticket).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('BAD_REQUEST');
  });
});
