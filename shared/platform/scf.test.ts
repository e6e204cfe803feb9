import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningSimulator, startSimulator, wxacodeBytes } from '../../dev/simulator';
import { main_handler as proxyHandler } from '../../functions/proxy/scf';
import { createApp as createRefreshApp, refreshNow } from '../../functions/refresh/app';
import { main_handler as refreshHandler } from '../../functions/refresh/scf';
import { createApp as createTokenApp } from '../../functions/token/app';
import { main_handler as tokenHandler } from '../../functions/token/scf';
import { createLogger } from '../http/log';
import { bootstrap } from './bootstrap';
import type { ScfResponse, ScfResult, ScfTimerResult } from './scf';
import { createScfHandler } from './scf';

const KEY = 'scf-test-key-0123456789abcdef';
const APP = { name: 'shop', kind: 'official', appId: 'wxscf0000000001', appSecret: 'scf-secret' };

type Event = Record<string, unknown> & { headers: Record<string, string> };
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'scf-fixtures', `${name}.json`), 'utf8'));
/** A fresh copy of a fixture event, with some fields replaced. */
const event = (name: string, over: Record<string, unknown> = {}): Event => ({
  ...(fixture(name) as Event),
  ...over,
});

function http(r: ScfResult): ScfResponse {
  if (!('statusCode' in r)) throw new Error(`not an HTTP response: ${JSON.stringify(r)}`);
  return r;
}
function timer(r: ScfResult): ScfTimerResult {
  if ('statusCode' in r) throw new Error(`not a timer result: ${JSON.stringify(r)}`);
  return r;
}
const json = (r: ScfResponse): unknown => JSON.parse(r.body);

let sim: RunningSimulator;
const saved = { ...process.env };

beforeAll(async () => {
  sim = await startSimulator();
  sim.sim.registerApp({ appId: APP.appId, secret: APP.appSecret });
  const dir = mkdtempSync(join(tmpdir(), 'wxhub-scf-'));
  Object.assign(process.env, {
    DATABASE_URL: `file:${join(dir, 'hub.db')}`,
    WXHUB_API_KEYS: KEY,
    WXHUB_APPS: JSON.stringify({ apps: [{ ...APP, tokenMode: 'classic' }] }),
    WECHAT_API_BASE: sim.url,
    WECHATPAY_API_BASE: sim.url,
    LOG_LEVEL: 'silent',
  });
});

afterAll(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  await sim.close();
});

describe('API Gateway events', () => {
  it('serves GET /healthz with mixed-case headers and echoes the gateway request id', async () => {
    const r = http(await tokenHandler(event('apigw-get-healthz'), {}));
    expect(r).toMatchObject({ statusCode: 200, isBase64Encoded: false });
    expect(json(r)).toEqual({ status: 'ok', db: 'ok' });
    expect(r.headers['x-request-id']).toBe('c6af9ac6-7b61-11e6-9a41-93e8deadbeef');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r).not.toHaveProperty('multiValueHeaders');
  });

  it('serves a token from the simulator with the bearer key, and 401 without it', async () => {
    const r = http(await tokenHandler(event('apigw-get-token')));
    expect(r.statusCode).toBe(200);
    expect(r.isBase64Encoded).toBe(false);
    const body = json(r) as { appId: string; accessToken: string };
    expect(body.appId).toBe(APP.appId);
    expect(sim.sim.isTokenValid(body.accessToken)).toBe(true);

    const bad = event('apigw-get-token');
    bad.headers = { ...bad.headers, authorization: 'Bearer wrong-key-0123456789abcdef' };
    const refused = http(await tokenHandler(bad));
    expect(refused.statusCode).toBe(401);
    expect(json(refused)).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('takes the query from queryString, not queryStringParameters', async () => {
    const card = json(http(await tokenHandler(event('apigw-get-ticket')))) as { ticket: string };
    const jsapi = http(await tokenHandler(event('apigw-get-ticket', { queryString: {} })));
    expect(jsapi.statusCode).toBe(200);
    expect((json(jsapi) as { ticket: string }).ticket).not.toBe(card.ticket);
    const wrong = event('apigw-get-ticket', {
      queryString: { type: ['nope', 'jsapi'] },
      queryStringParameters: { type: 'jsapi' },
    });
    const r = http(await tokenHandler(wrong));
    expect(r.statusCode).toBe(400);
    expect(json(r)).toMatchObject({
      error: { code: 'BAD_REQUEST', message: 'type must be one of jsapi, wx_card' },
    });
  });

  it('decodes a base64 body and answers image bytes base64-encoded, intact', async () => {
    const r = http(await proxyHandler(event('apigw-post-base64')));
    expect(r.statusCode).toBe(200);
    expect(r.isBase64Encoded).toBe(true);
    expect(r.headers['content-type']).toBe('image/jpeg');
    expect(Buffer.from(r.body, 'base64').equals(Buffer.from(wxacodeBytes('a=1')))).toBe(true);
  });
});

describe('function URL events', () => {
  it('serves a POST with a plain body (no requestContext, no isBase64Encoded)', async () => {
    const current = json(http(await tokenHandler(event('apigw-get-token')))) as {
      accessToken: string;
    };
    const r = http(await tokenHandler(event('function-url-post'), { request_id: 'scf-req-1' }));
    expect(r.statusCode).toBe(200);
    expect(json(r)).toMatchObject({ appId: APP.appId, accessToken: current.accessToken });
    expect(r.headers['x-request-id']).toBe('scf-req-1');
  });

  it('serves a GET with its query, the headers shaped like the documented sample', async () => {
    const card = http(await tokenHandler(event('function-url-get-ticket')));
    expect(card).toMatchObject({ statusCode: 200, isBase64Encoded: false });
    const jsapi = http(await tokenHandler(event('function-url-get-ticket', { queryString: {} })));
    expect((json(jsapi) as { ticket: string }).ticket).not.toBe(
      (json(card) as { ticket: string }).ticket,
    );
    const wrong = http(
      await tokenHandler(event('function-url-get-ticket', { queryString: { type: 'nope' } })),
    );
    expect(wrong.statusCode).toBe(400);
    expect(json(wrong)).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });

  it('answers image bytes base64-encoded to a plain JSON POST', async () => {
    const post = event('function-url-post', {
      path: '/v1/proxy/shop/wxa/getwxacodeunlimit',
      body: JSON.stringify({ scene: 'a=1' }),
    });
    post.headers = { ...post.headers, 'content-length': '15' };
    const r = http(await proxyHandler(post));
    expect(r).toMatchObject({ statusCode: 200, isBase64Encoded: true });
    expect(r.headers['content-type']).toBe('image/jpeg');
    expect(Buffer.from(r.body, 'base64').equals(Buffer.from(wxacodeBytes('a=1')))).toBe(true);
  });
});

describe('request and response mapping', () => {
  const probe = createScfHandler({
    createApp: () => {
      const app = new Hono();
      app.get('/echo', (c) =>
        c.json({ url: c.req.url, probe: c.req.header('x-probe'), a: c.req.queries('a') }),
      );
      app.post('/bytes', async (c) =>
        c.body(await c.req.arrayBuffer(), 200, { 'content-type': 'application/octet-stream' }),
      );
      app.get('/cookies/:n', (c) => {
        for (let i = 1; i <= Number(c.req.param('n')); i++) setCookie(c, `c${i}`, `${i}`);
        return c.text('ok');
      });
      return app;
    },
  });
  const get = (path: string, over: Record<string, unknown> = {}) =>
    event('apigw-get-healthz', { path, ...over });

  it('lower-cases headers, fills a missing host and keeps repeated query values', async () => {
    const r = http(
      await probe(
        get('/echo', { headers: { 'X-Probe': 'yes' }, queryString: { a: ['1', '2'], b: 'x' } }),
      ),
    );
    expect(json(r)).toEqual({
      url: 'https://localhost/echo?a=1&a=2&b=x',
      probe: 'yes',
      a: ['1', '2'],
    });
  });

  it('keeps several set-cookie as an array in headers, one as a string', async () => {
    const two = http(await probe(get('/cookies/2')));
    expect(two.headers['set-cookie']).toEqual(['c1=1; Path=/', 'c2=2; Path=/']);
    expect(two).toMatchObject({ statusCode: 200, isBase64Encoded: false, body: 'ok' });
    expect(two.headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect(two).not.toHaveProperty('multiValueHeaders');
    const one = http(await probe(get('/cookies/1')));
    expect(one.headers['set-cookie']).toBe('c1=1; Path=/');
  });

  it('round-trips non-UTF-8 bytes through base64 both ways', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0x80, 0x0a, 0xc3]);
    const r = http(
      await probe(
        get('/bytes', {
          httpMethod: 'POST',
          body: bytes.toString('base64'),
          isBase64Encoded: true,
        }),
      ),
    );
    expect(r.isBase64Encoded).toBe(true);
    expect(Buffer.from(r.body, 'base64').equals(bytes)).toBe(true);
  });
});

describe('timer events', () => {
  it('run the refresh pass on the refresh function and answer its summary', async () => {
    await tokenHandler(event('apigw-get-token'));
    const r = timer(await refreshHandler(event('timer')));
    expect(r).toMatchObject({ ok: true, trigger: 'refresh', time: '2026-11-01T03:00:00Z' });
    expect(r.result).toEqual({
      checked: 0,
      refreshed: 0,
      failed: [],
      outbox: { delivered: 0, retrying: 0, dead: 0 },
      purged: {
        messages: 0,
        deliveries: 0,
        signatures: 0,
        authorizationCodes: 0,
        loginFailures: 0,
      },
    });
    const lower = timer(await refreshHandler(event('timer', { Type: 'timer' })));
    expect(lower.ok).toBe(true);
  });

  it('fetch a token no one asked for yet on a fresh database', async () => {
    const shared = process.env.DATABASE_URL;
    process.env.DATABASE_URL = `file:${join(mkdtempSync(join(tmpdir(), 'wxhub-scf-')), 'fresh.db')}`;
    try {
      const fresh = createScfHandler({ createApp: createRefreshApp, onTimer: refreshNow });
      const before = sim.sim.calls('/cgi-bin/token', APP.appId);
      const r = timer(await fresh(event('timer')));
      expect(r.result).toMatchObject({ checked: 1, refreshed: 1, failed: [] });
      expect(sim.sim.calls('/cgi-bin/token', APP.appId)).toBe(before + 1);
    } finally {
      process.env.DATABASE_URL = shared;
    }
  });

  it('answer an error result on a function without onTimer, or when the run fails', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockReturnValue(true);
    try {
      const r = timer(await tokenHandler(event('timer')));
      expect(r).toMatchObject({ ok: false, trigger: 'refresh' });
      expect(r.error).toMatch(/no timer handler/);
    } finally {
      stderr.mockRestore();
    }
    const failing = createScfHandler({
      createApp: createTokenApp,
      onTimer: async () => {
        throw new Error('pass broke');
      },
    });
    expect(await failing(event('timer'))).toMatchObject({ ok: false, error: 'pass broke' });
  });
});

describe('malformed events', () => {
  const cases = fixture('malformed') as { name: string; event: unknown; message: string }[];

  it.each(cases)('$name → 400 with the error envelope', async ({ event: ev, message }) => {
    const r = http(await tokenHandler(ev));
    expect(r.statusCode).toBe(400);
    expect(r.isBase64Encoded).toBe(false);
    const body = json(r) as { error: { requestId: string } };
    expect(body).toEqual({
      error: { code: 'BAD_REQUEST', message, requestId: expect.any(String) },
    });
    expect(r.headers['x-request-id']).toBe(body.error.requestId);
  });

  it('answers undefined too, and uses the gateway request id when there is one', async () => {
    expect(http(await tokenHandler(undefined)).statusCode).toBe(400);
    const r = http(await tokenHandler(event('apigw-get-healthz', { path: 42 })));
    expect(json(r)).toMatchObject({
      error: { code: 'BAD_REQUEST', requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef' },
    });
  });
});

describe('boot', () => {
  it('answers 503 when the boot fails, retries on the next event, then boots once', async () => {
    const createApp = vi.fn(createTokenApp);
    const handler = createScfHandler({ createApp });
    const stderr = vi.spyOn(process.stderr, 'write').mockReturnValue(true);
    const good = process.env.WXHUB_API_KEYS;
    process.env.WXHUB_API_KEYS = 'short';
    try {
      const r = http(await handler(event('apigw-get-token')));
      expect(r.statusCode).toBe(503);
      expect(json(r)).toEqual({
        error: {
          code: 'UNAVAILABLE',
          message: 'wxhub could not start: invalid configuration (see the function log)',
          requestId: '9e1b2c3d-0a11-4f22-8b33-1c2d3e4f5a6b',
        },
      });
      expect(r.body).not.toContain('short');
      expect(String(stderr.mock.calls[0]?.[0])).toContain('WXHUB_API_KEYS');
      expect(createApp).not.toHaveBeenCalled();
    } finally {
      process.env.WXHUB_API_KEYS = good;
      stderr.mockRestore();
    }
    const [a, b] = await Promise.all([
      handler(event('apigw-get-token')),
      handler(event('apigw-get-healthz')),
    ]);
    expect(http(a).statusCode).toBe(200);
    expect(http(b).statusCode).toBe(200);
    expect(http(await handler(event('apigw-get-healthz'))).statusCode).toBe(200);
    expect(createApp).toHaveBeenCalledTimes(1);
  });

  it('runs the start-up check of stored secrets after the first answer, not before it', async () => {
    const env = {
      DATABASE_URL: process.env.DATABASE_URL,
      WXHUB_SECRET_KEY: process.env.WXHUB_SECRET_KEY,
    };
    const dir = mkdtempSync(join(tmpdir(), 'wxhub-scf-'));
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('warn', { write: (l: string) => lines.push(JSON.parse(l)) });
    process.env.DATABASE_URL = `file:${join(dir, 'keys.db')}`;
    try {
      // A credential sealed under key A …
      process.env.WXHUB_SECRET_KEY = randomBytes(32).toString('base64');
      const first = await bootstrap(process.env, { log: createLogger('silent') });
      const now = Date.now();
      await first.store.credentials.put(
        { owner: 'app:gone', kind: 'access_token' },
        { value: 'TOKEN', expiresAt: now + 7_200_000 },
        now,
      );
      await first.store.close();
      // … and a function started with key B only.
      process.env.WXHUB_SECRET_KEY = randomBytes(32).toString('base64');
      const handler = createScfHandler({ createApp: createTokenApp, bootstrap: { log } });
      const warned = () => lines.filter((l) => String(l.msg).startsWith('a stored secret'));
      expect(http(await handler(event('apigw-get-healthz'))).statusCode).toBe(200);
      expect(warned()).toEqual([]);
      await vi.waitFor(() => expect(warned()).toHaveLength(1));
      await handler(event('apigw-get-healthz'));
      await new Promise((r) => setTimeout(r, 20));
      expect(warned()).toHaveLength(1);
    } finally {
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('sets callbackWaitsForEmptyEventLoop to false on the context', async () => {
    const context = { callbackWaitsForEmptyEventLoop: true, request_id: 'r-1' };
    await tokenHandler(event('apigw-get-healthz'), context);
    expect(context.callbackWaitsForEmptyEventLoop).toBe(false);
  });
});
