import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedRoutes } from '../shared/http/lazy-routes';
import { testTargets } from '../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from './testing';

type Doc = { paths: Record<string, Record<string, unknown>>; servers: { url: string }[] };

/** `/v1/proxy/:app/:path{.+}` → `/v1/proxy/{app}/{path}` */
const openApiPath = (honoPath: string) =>
  honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, (_, name: string) => `{${name}}`);

/**
 * Mounted `/v1/…` routes the document lacks, and documented operations nothing mounts. A route
 * Hono mounts for every method (`ALL`, the proxies) counts for each method the document lists.
 */
function mismatches(routes: { method: string; path: string }[], doc: Doc) {
  const mounted = routes
    .filter((r) => r.path.startsWith('/v1/'))
    .map((r) => ({ method: r.method.toLowerCase(), path: openApiPath(r.path) }));
  const undocumented = mounted
    .filter(({ method, path }) => {
      const item = doc.paths[path];
      return item === undefined || (method !== 'all' && item[method] === undefined);
    })
    .map(({ method, path }) => `${method.toUpperCase()} ${path}`);
  const unmounted = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter(
        (m) => !mounted.some((r) => r.path === path && (r.method === m || r.method === 'all')),
      )
      .map((m) => `${m.toUpperCase()} ${path}`),
  );
  return { undocumented, unmounted };
}

/**
 * The hub's routes with each lazily loaded `/v1/` group (shared/http/lazy-routes.ts, mounted as
 * `ALL {prefix}*`) replaced by the routes its module mounts once loaded.
 */

describe.each(testTargets())('GET /openapi.json and /docs on $name', (target) => {
  const oa = testApp();
  let hub: TestHub;
  let doc: Doc;
  beforeAll(async () => {
    hub = await createTestHub(target, {
      apps: [oa],
      env: { WXHUB_PUBLIC_URL: 'https://hub.example.com' },
    });
    const res = await hub.app.request('/openapi.json', { headers: AUTH });
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
  });
  afterAll(() => hub.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.servers[0]?.url).toBe('https://hub.example.com');
  });

  it('documents every /v1/ route the hub mounts, and only those', async () => {
    // Lazily loaded groups (the token function's extras) count with the routes they load.
    const routes = await servedRoutes(hub.app);
    expect(routes.filter((r) => r.path.startsWith('/v1/')).length).toBeGreaterThan(25);
    expect(routes.some((r) => r.lazy && r.path.startsWith('/v1/components/'))).toBe(true);
    expect(routes.some((r) => r.lazy && r.path.startsWith('/v1/fengniao/'))).toBe(true);
    expect(routes.some((r) => r.lazy && r.path.startsWith('/v1/suites/'))).toBe(true);
    expect(mismatches(routes, doc)).toEqual({ undocumented: [], unmounted: [] });
  });

  it('would name a route mounted without a declaration, and a declaration never mounted', async () => {
    const served = await servedRoutes(hub.app);
    const routes = [...served, { method: 'GET', path: '/v1/apps/:app/secret' }];
    const { '/v1/refresh': _, ...paths } = doc.paths;
    expect(mismatches(routes, { ...doc, paths })).toEqual({
      undocumented: ['POST /v1/refresh', 'GET /v1/apps/{app}/secret'],
      unmounted: [],
    });
    const fewer = served.filter((r) => r.path !== '/v1/outbox');
    expect(mismatches(fewer, doc)).toEqual({ undocumented: [], unmounted: ['GET /v1/outbox'] });
  });

  it('documents parameters, bodies, answers and errors of a route', () => {
    const invalidate = doc.paths['/v1/apps/{app}/token/invalidate']?.post as {
      parameters: { name: string; in: string }[];
      requestBody: { content: Record<string, { schema: { required: string[] } }> };
      responses: Record<string, unknown>;
    };
    expect(invalidate.parameters).toMatchObject([{ name: 'app', in: 'path' }]);
    expect(invalidate.requestBody.content['application/json']?.schema.required).toEqual([
      'accessToken',
    ]);
    expect(Object.keys(invalidate.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404', '413', '500', '502', '503', '504']),
    );
    const proxy = doc.paths['/v1/proxy/{app}/{path}'];
    expect(Object.keys(proxy ?? {})).toEqual(['get', 'post']);
    // One operationId per operation, the names a generated client uses.
    const ids = Object.values(doc.paths).flatMap((item) =>
      Object.values(item).map((op) => (op as { operationId: string }).operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('getV1AppsAppToken');
  });

  it('answers /openapi.json only with a key (401), and the same document every time', async () => {
    const anonymous = await hub.app.request('/openapi.json');
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe(
      'UNAUTHORIZED',
    );
    const bad = await hub.app.request('/openapi.json', {
      headers: { authorization: 'Bearer wrong' },
    });
    expect(bad.status).toBe(401);
    const again = await hub.app.request('/openapi.json', { headers: AUTH });
    expect(await again.json()).toEqual(doc);
  });

  it('renders /docs from the document: every route, no script, no outside asset', async () => {
    const res = await hub.app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe');
    const html = await res.text();
    for (const path of Object.keys(doc.paths)) expect(html).toContain(`<code>${path}</code>`);
    expect(html).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    const assets = [...html.matchAll(/\s(?:src|href)="([^"#]+)"/g)].map((m) => m[1]);
    expect(assets).toEqual(['/docs/style.css', '/openapi.json']);
    const css = await hub.app.request('/docs/style.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(await css.text()).not.toMatch(/url\(|@import/);
  });
});

describe.each(testTargets())('bad input through the declarations on $name', (target) => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [] });
  });
  afterAll(() => hub.close());

  const error = async (method: string, path: string, body?: string) => {
    const res = await hub.app.request(path, {
      method,
      headers: { ...AUTH, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    });
    expect(res.status, `${method} ${path}`).toBe(400);
    return ((await res.json()) as { error: { code: string; message: string } }).error;
  };

  it.each([
    ['POST', '/v1/pay/m/jsapi', '{"appid":42}', 'body appid must be string'],
    ['POST', '/v1/pay/m/jsapi', '{"description":"d","out_trade_no":7}', 'out_trade_no is required'],
    [
      'POST',
      '/v1/pay/m/refunds',
      '{"out_refund_no":"R1","out_trade_no":5}',
      'body out_trade_no must be string',
    ],
    ['GET', '/v1/outbox?status=delivered', undefined, 'status must be pending or dead'],
    ['GET', '/v1/apps/a/ticket?type=card', undefined, 'type must be one of jsapi, wx_card'],
    ['GET', '/v1/apps/a/jssdk-config', undefined, 'query parameter url is required'],
    [
      'POST',
      '/v1/apps/a/token/invalidate',
      'not json',
      'body must be JSON {"accessToken": "<the token that failed>"}',
    ],
    ['GET', '/v1/components/c/authorizers?limit=ten', undefined, 'limit must be a whole number'],
    ['GET', '/v1/pay/m/transactions/has%20space', undefined, 'out_trade_no must be 1 to 64'],
  ])('%s %s %s: 400 "%s" before any lookup', async (method, path, body, message) => {
    const e = await error(method, path, body);
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toContain(message);
  });
});
