import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBaseApp } from '../../shared/http/app';
import { servedRoutes } from '../../shared/http/lazy-routes';
import { testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';
import { createRoutes } from './app';
import { EXTRA_PATHS } from './extra-paths';
import { createExtraRoutes } from './extras';

/** Whether one of {@link EXTRA_PATHS} reaches a route mounted at `path` (a Hono pattern). */
const reached = (path: string) =>
  EXTRA_PATHS.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));

// Route lists do not depend on the database: the first target (SQLite) is enough.
describe.each(testTargets().slice(0, 1))("the token function's extras on $name", (target) => {
  let hub: TestHub;
  const mp = testApp({ kind: 'miniprogram' });

  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [mp] });
  });
  afterAll(() => hub.close());

  it('are reached by their paths, every one of them, and no eager route is', async () => {
    const extras = createExtraRoutes(hub.deps).routes.filter(
      (r) => !(r.method === 'ALL' && r.path === '/*'),
    );
    expect(extras.length).toBeGreaterThan(15);
    expect(extras.filter((r) => !reached(r.path)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    const eager = (await servedRoutes(createRoutes(hub.deps))).filter((r) => !r.lazy);
    expect(eager.some((r) => r.path === '/v1/apps/:app/token')).toBe(true);
    expect(eager.filter((r) => reached(r.path)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    // Each path reaches at least one route: none is left over from a route that moved.
    for (const p of EXTRA_PATHS) {
      expect(
        extras.some((r) => (p.endsWith('/') ? r.path.startsWith(p) : r.path === p)),
        p,
      ).toBe(true);
    }
  });

  it('answer through the token function as its own routes do', async () => {
    const app = createBaseApp(hub.deps);
    app.route('/', createRoutes(hub.deps));
    // A lazily loaded route, its validation and error envelope included.
    const bad = await app.request(`/v1/apps/${mp.name}/login`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    const jwks = await app.request('/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    // An eager route beside them.
    const token = await app.request(`/v1/apps/${mp.name}/token`, { headers: AUTH });
    expect(token.status).toBe(200);
    expect(await token.json()).toMatchObject({ appId: mp.appId });
  });
});
