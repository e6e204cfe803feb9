import { request } from 'node:http';
import { type Context, Hono } from 'hono';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../platform/server';
import { type OpenedStore, openTestStore, testTargets } from '../store/testing';
import { createBaseApp, type HubEnv } from './app';
import { createLogger } from './log';
import { declareRoute, honoPath, mount } from './routes';

const KEY = 'test-key-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };

const order = declareRoute({
  method: 'POST',
  path: '/v1/shops/{shop}/orders/{no}',
  tag: 'test',
  summary: 'an order',
  params: v.object({ shop: v.string(), no: v.pipe(v.string(), v.regex(/^\d+$/, 'no: digits')) }),
  query: v.object({ dry: v.optional(v.picklist(['0', '1'])) }),
  body: v.object({
    item: v.string(),
    amount: v.object({ total: v.pipe(v.number(), v.integer()) }),
    note: v.optional(v.string('note must be text')),
  }),
  responses: { 200: { description: 'echo' } },
  errors: ['BAD_REQUEST'],
});

const files = declareRoute({
  method: 'ANY',
  path: '/v1/files/{path}',
  wildcard: 'path',
  tag: 'test',
  summary: 'any file',
  params: v.object({ path: v.string() }),
  responses: { 200: { description: 'the path' } },
  errors: [],
});

describe('a declared route without a body', () => {
  it('answers in the same turn as its handler (no promise of its own: the cached token read)', async () => {
    const r = new Hono<HubEnv>();
    let captured: Context<HubEnv> | undefined;
    r.use(async (c, next) => {
      captured = c;
      await next();
    });
    const decl = declareRoute({
      method: 'GET',
      path: '/v1/things/{thing}',
      tag: 'test',
      summary: 'a thing',
      params: v.object({ thing: v.pipe(v.string(), v.description('any string')) }),
      responses: { 200: { description: 'the thing' } },
      errors: [],
    });
    mount(r, decl, (c, { params }) => c.text(params.thing));
    expect(await (await r.request('/v1/things/t1')).text()).toBe('t1');
    const route = r.routes.find((x) => x.path === '/v1/things/:thing');
    if (route === undefined || captured === undefined) throw new Error('route not mounted');
    const answer = route.handler(captured, async () => undefined);
    expect(answer).toBeInstanceOf(Response);
  });
});

describe.each(testTargets())('declared routes on $name', (target) => {
  let opened: OpenedStore;
  let server: RunningServer;
  const app = () => {
    const base = createBaseApp({
      store: opened.store,
      log: createLogger('silent'),
      config: { bodyLimitBytes: 1024, apiKeys: [KEY], trustWxSource: false },
    });
    const r = new Hono<HubEnv>();
    mount(r, order, (c, { params, query, body }) => c.json({ params, query, body }));
    mount(r, files, (c, { params }) => c.json({ method: c.req.method, path: params.path }));
    base.route('/', r);
    return base;
  };
  beforeAll(async () => {
    opened = await openTestStore(target);
    // Over real HTTP too: there the base app leaves a body with a length for requestText().
    server = await listen(app(), 0, createLogger('silent'), '127.0.0.1');
  });
  afterAll(async () => {
    await server.close(1_000);
    await opened.store.close();
  });

  const post = (path: string, body: string) =>
    app().request(path, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body,
    });
  const message = async (res: Response) => {
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('BAD_REQUEST');
    return body.error.message;
  };

  it('hands the handler the validated parameters, query and body', async () => {
    const res = await post(
      '/v1/shops/a%20b/orders/12?dry=1&other=x',
      '{"item":"x","amount":{"total":3}}',
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      params: { shop: 'a b', no: '12' },
      query: { dry: '1' },
      body: { item: 'x', amount: { total: 3 } },
    });
  });

  it('answers 400 naming the field, or the declaration’s own message', async () => {
    const good = '{"item":"x","amount":{"total":3}}';
    expect(await message(await post('/v1/shops/s/orders/x1', good))).toBe('no: digits');
    expect(await message(await post('/v1/shops/s/orders/1?dry=yes', good))).toBe(
      'query parameter dry must be ("0" | "1")',
    );
    expect(await message(await post('/v1/shops/s/orders/1', '{"amount":{"total":3}}'))).toBe(
      'body item is required',
    );
    expect(await message(await post('/v1/shops/s/orders/1', '{"item":"x","amount":{}}'))).toBe(
      'body amount.total is required',
    );
    expect(
      await message(await post('/v1/shops/s/orders/1', '{"item":"x","amount":{"total":1.5}}')),
    ).toBe('body amount.total must be integer');
    expect(
      await message(
        await post('/v1/shops/s/orders/1', '{"item":"x","amount":{"total":1},"note":5}'),
      ),
    ).toBe('note must be text');
    expect(await message(await post('/v1/shops/s/orders/1', 'not json'))).toBe(
      'body must be Object',
    );
    expect(await message(await post('/v1/shops/s/orders/1', '"text"'))).toBe('body must be Object');
  });

  it('never echoes the refused value', async () => {
    const secret = 'sk-live-0123456789abcdef';
    const text = await message(
      await post('/v1/shops/s/orders/1', JSON.stringify({ item: { secret }, amount: {} })),
    );
    expect(text).toBe('body item must be string');
    expect(text).not.toContain(secret);
  });

  it('reads a body the base app left on the Node request (real HTTP)', async () => {
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const body = '{"item":"x","amount":{"total":1.5}}';
      const req = request(
        `${server.url}/v1/shops/s/orders/1`,
        {
          method: 'POST',
          headers: {
            ...AUTH,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status.status).toBe(400);
    expect(status.body).toContain('body amount.total must be integer');
  });

  it('mounts ANY with a wildcard spanning segments, decoded', async () => {
    expect(honoPath(files)).toBe('/v1/files/:path{.+}');
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await app().request('/v1/files/a/b%2Fc/d.txt', { method, headers: AUTH });
      expect(await res.json()).toEqual({ method, path: 'a/b/c/d.txt' });
    }
  });

  it('keeps internal auth in front of validation (401, not 400)', async () => {
    const res = await app().request('/v1/shops/s/orders/x', { method: 'POST', body: '{' });
    expect(res.status).toBe(401);
  });
});
