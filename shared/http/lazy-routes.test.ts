import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createBaseApp, type HubEnv } from './app';
import { AppError } from './errors';
import { lazyRoutes, servedRoutes } from './lazy-routes';
import { createLogger } from './log';

type Env = { Variables: HubEnv['Variables'] & { who: string } };

/** A base app with a layer that sets `who`, the lazy routes behind it, and a count of loads. */
function build(load?: () => Promise<Hono<Env>>) {
  let loads = 0;
  const routes = () => {
    const r = new Hono<Env>();
    r.get('/lazy/who', (c) => c.json({ who: c.get('who'), requestId: c.get('requestId') }));
    r.get('/lazy/missing', () => {
      throw new AppError('NOT_FOUND', 'no such thing');
    });
    r.get('/lazy/boom', () => {
      throw new Error('SELECT secret FROM things failed');
    });
    r.post('/lazy/echo', async (c) => c.text(await c.req.text()));
    // As a copy of Hono bundled into a lazily loaded file has: a handler of its own.
    r.onError(() => new Response('the loaded routes answered this themselves', { status: 500 }));
    return r;
  };
  const app = createBaseApp({
    store: { ping: async () => undefined },
    log: createLogger('silent'),
    config: { bodyLimitBytes: 1024, apiKeys: [], trustWxSource: false },
  });
  const outer = new Hono<Env>();
  outer.use('/lazy/*', async (c, next) => {
    c.set('who', 'admin-1');
    await next();
  });
  outer.get('/lazy/eager', (c) => c.text('eager'));
  outer.route(
    '/',
    lazyRoutes('/lazy/', async () => {
      loads += 1;
      return load === undefined ? routes() : load();
    }),
  );
  app.route('/', outer);
  return { app, loads: () => loads };
}

describe('lazy routes', () => {
  it('load on the first request that reaches them, once, not when the app is built', async () => {
    const { app, loads } = build();
    expect(loads()).toBe(0);
    expect(await (await app.request('/lazy/eager')).text()).toBe('eager');
    expect(loads()).toBe(0);
    const res = await app.request('/lazy/who', { headers: { 'x-request-id': 'req-lazy-1' } });
    expect(res.status).toBe(200);
    // The outer request's variables reach them.
    expect(await res.json()).toEqual({ who: 'admin-1', requestId: 'req-lazy-1' });
    expect(res.headers.get('x-request-id')).toBe('req-lazy-1');
    expect((await app.request('/lazy/who')).status).toBe(200);
    expect(await (await app.request('/lazy/echo', { method: 'POST', body: 'hi' })).text()).toBe(
      'hi',
    );
    expect(loads()).toBe(1);
  });

  it('answer errors and unknown paths as the outer app does (envelope, 404, no internals)', async () => {
    const { app } = build();
    const missing = await app.request('/lazy/missing', { headers: { 'x-request-id': 'req-2' } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      error: { code: 'NOT_FOUND', message: 'no such thing', requestId: 'req-2' },
    });
    const unknown = await app.request('/lazy/nothing-here');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error: { code: 'NOT_FOUND', message: 'no route for GET /lazy/nothing-here' },
    });
    const boom = await app.request('/lazy/boom');
    expect(boom.status).toBe(500);
    const text = await boom.text();
    expect(text).toContain('INTERNAL');
    expect(text).not.toContain('secret');
  });

  it('try a failed load again on the next request', async () => {
    let fail = true;
    const { app, loads } = build(async () => {
      if (fail) throw new Error('cannot load');
      return new Hono<Env>().get('/lazy/who', (c) => c.text(c.get('who')));
    });
    expect((await app.request('/lazy/who')).status).toBe(500);
    fail = false;
    const res = await app.request('/lazy/who');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('admin-1');
    expect(loads()).toBe(2);
  });
  it('are reached by route patterns as well as prefixes, and load for nothing else', async () => {
    let loads = 0;
    const outer = new Hono();
    outer.get('/things/:id/eager', (c) => c.text(`eager ${c.req.param('id')}`));
    outer.route(
      '/',
      lazyRoutes(['/things/:id/lazy', '/stuff/'], async () => {
        loads += 1;
        const r = new Hono();
        r.get('/things/:id/lazy', (c) => c.text(`lazy ${c.req.param('id')}`));
        r.get('/stuff/a', (c) => c.text('stuff a'));
        return r;
      }),
    );
    expect(await (await outer.request('/things/7/eager')).text()).toBe('eager 7');
    expect((await outer.request('/things/7/other')).status).toBe(404);
    expect(loads).toBe(0);
    expect(await (await outer.request('/things/7/lazy')).text()).toBe('lazy 7');
    expect(await (await outer.request('/stuff/a')).text()).toBe('stuff a');
    expect(loads).toBe(1);
    // The routes served, the lazy ones in place of their entry points.
    expect(await servedRoutes(outer)).toEqual([
      { method: 'GET', path: '/things/:id/eager', lazy: false },
      { method: 'GET', path: '/things/:id/lazy', lazy: true },
      { method: 'GET', path: '/stuff/a', lazy: true },
    ]);
  });
});
