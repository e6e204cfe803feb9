import type { Router } from 'hono/router';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { SmartRouter } from 'hono/router/smart-router';
import { TrieRouter } from 'hono/router/trie-router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTargets } from '../shared/store/testing';
import { createHubApp } from './index';
import { createTestHub, type TestHub } from './testing';

// The SCF handler routes with TrieRouter (BaseAppDeps.coldStartRouting), every other process
// with Hono's default (RegExpRouter, TrieRouter for what it cannot take). Both must pick the same
// handlers with the same parameters for every request the hub can get.

type Match = { route: number; params: Record<string, string> }[];

/** What `router` matches for `method` `path`, in one form whatever the router's own. */
function matchOf(router: Router<number>, method: string, path: string): Match {
  const [handlers, stash] = router.match(method, path);
  return handlers.map(([route, params]) => ({
    route,
    params: Object.fromEntries(
      Object.entries(params).map(([k, v]) => [
        k,
        String(stash === undefined ? v : stash[Number(v)]),
      ]),
    ),
  }));
}

/** A path `pattern` matches: each parameter a value, a wildcard some segments. */
function concrete(pattern: string, value: string): string {
  return pattern
    .replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string, re?: string) =>
      re === undefined ? `${value}-${name}` : /\\d|0-9/.test(re) ? '12' : `${value}${name}`,
    )
    .replace(/\*/g, 'a/b');
}

describe.each(testTargets().slice(0, 1))('routing of every route on $name', (target) => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [] });
  });
  afterAll(() => hub.close());

  it('TrieRouter matches what the default router matches, for every route and its near misses', () => {
    const routes = createHubApp(hub.deps).routes;
    expect(routes.length).toBeGreaterThan(50);
    const byDefault = new SmartRouter<number>({
      routers: [new RegExpRouter(), new TrieRouter()],
    });
    const byTrie = new TrieRouter<number>();
    for (const [i, r] of routes.entries()) {
      byDefault.add(r.method, r.path, i);
      byTrie.add(r.method, r.path, i);
    }
    const paths = new Set<string>([
      '/',
      '//',
      '/admin',
      '/admin/',
      '/admin//',
      '/admin/x',
      '/v1',
      '/v1/',
      '/healthz/',
      '/unknown',
      '/wx',
      '/wx/',
      '/wx/a/b/c/d/e/f',
      '/%2Fv1',
    ]);
    for (const r of routes) {
      for (const value of ['x', 'a.b', 'x%2Fy']) {
        const p = concrete(r.path, value);
        paths.add(p);
        paths.add(p.endsWith('/') ? p.slice(0, -1) : `${p}/`);
        paths.add(`${p}/extra`);
        paths.add(p.replace(/\/[^/]*$/, ''));
      }
    }
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
    let compared = 0;
    for (const path of paths) {
      // Hono's request paths always start with one.
      if (!path.startsWith('/')) continue;
      for (const method of methods) {
        expect(matchOf(byTrie, method, path), `${method} ${path}`).toEqual(
          matchOf(byDefault, method, path),
        );
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('the SCF handler routes with TrieRouter, the others with the default', async () => {
    const { createBaseApp } = await import('../shared/http/app');
    expect(createBaseApp({ ...hub.deps, coldStartRouting: true }).router.name).toBe('TrieRouter');
    expect(createHubApp(hub.deps).router.name).toBe('SmartRouter');
  });
});
