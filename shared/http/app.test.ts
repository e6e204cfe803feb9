import { request } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../platform/server';
import type { OpenedStore } from '../store/testing';
import { openTestStore, testTargets } from '../store/testing';
import { createBaseApp } from './app';
import { createKeyMatcher } from './auth';
import type { Exposure } from './exposure';
import { createLogger } from './log';

const KEY = 'test-key-0123456789';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, log: createLogger('info', stream) };
}

describe.each(testTargets())('base app on $name', (target) => {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await openTestStore(target);
  });
  afterAll(async () => {
    await opened.store.close().catch(() => undefined);
  });

  const build = (bodyLimitBytes = 64, trustWxSource = false, expose?: Exposure) => {
    const { lines, log } = capture();
    const app = createBaseApp({
      store: opened.store,
      log,
      config: { bodyLimitBytes, apiKeys: [KEY], trustWxSource, expose },
    });
    app.post('/echo', async (c) => c.text(await c.req.text()));
    app.get('/v1/ping', (c) => c.json({ pong: true }));
    app.get('/wx/ping', (c) => c.json({ pong: true }));
    app.get('/boom', () => {
      throw new Error('SELECT secret FROM apps failed: ER_ACCESS_DENIED');
    });
    return { app, lines };
  };

  it('answers healthz with the database check', async () => {
    const res = await build().app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', db: 'ok' });
  });

  it('rejects an oversized body with 413 in the envelope', async () => {
    const { app, lines } = build(64);
    const ok = await app.request('/echo', { method: 'POST', body: 'x'.repeat(64) });
    expect(ok.status).toBe(200);
    const res = await app.request('/echo', { method: 'POST', body: 'x'.repeat(65) });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(await res.json()).toEqual({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: 'request body exceeds 64 bytes',
        requestId: res.headers.get('x-request-id'),
      },
    });
    const statuses = lines
      .map((l) => JSON.parse(l) as { msg: string; status?: number })
      .filter((l) => l.msg === 'request')
      .map((l) => l.status);
    expect(statuses).toEqual([200, 413]);
  });

  it('echoes a safe request id and replaces an unsafe one', async () => {
    const { app } = build();
    expect(
      (await app.request('/healthz', { headers: { 'x-request-id': 'abc-123' } })).headers.get(
        'x-request-id',
      ),
    ).toBe('abc-123');
    const replaced = (
      await app.request('/healthz', { headers: { 'x-request-id': 'a b <script>' } })
    ).headers.get('x-request-id');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 500 without internals and logs the cause with the request id', async () => {
    const { app, lines } = build();
    const res = await app.request('/boom');
    expect(res.status).toBe(500);
    const body = await res.json();
    const requestId = res.headers.get('x-request-id');
    expect(body).toEqual({
      error: {
        code: 'INTERNAL',
        message: 'internal error; see the logs for this request id',
        requestId,
      },
    });
    const logged = lines.map(
      (l) => JSON.parse(l) as { msg: string; requestId?: string; err?: { message: string } },
    );
    const error = logged.find((l) => l.msg === 'unhandled error');
    expect(error?.requestId).toBe(requestId);
    expect(error?.err?.message).toContain('ER_ACCESS_DENIED');
  });

  it('guards every path under /v1/ with the bearer key, and nothing else', async () => {
    const { app, lines } = build();
    const missing = await app.request('/v1/ping');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(await missing.json()).toEqual({
      error: {
        code: 'UNAUTHORIZED',
        message: 'missing Authorization: Bearer <key>',
        requestId: missing.headers.get('x-request-id'),
      },
    });
    const wrong = await app.request('/v1/ping', { headers: { authorization: `Bearer ${KEY}x` } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const notBearer = await app.request('/v1/ping', { headers: { authorization: `Basic ${KEY}` } });
    expect(notBearer.status).toBe(401);
    // Unknown internal paths are refused before routing: nothing to enumerate without a key.
    expect((await app.request('/v1/nope')).status).toBe(401);
    const ok = await app.request('/v1/ping', { headers: { authorization: `bearer  ${KEY} ` } });
    expect(ok.status).toBe(200);
    expect(
      (await app.request('/v1/nope', { headers: { authorization: `Bearer ${KEY}` } })).status,
    ).toBe(404);
    expect((await app.request('/wx/ping')).status).toBe(200);
    expect((await app.request('/healthz')).status).toBe(200);
    // Refusals are logged like any request, without the presented key.
    const logged = lines.map(
      (l) => JSON.parse(l) as { msg: string; path?: string; status?: number },
    );
    expect(logged.filter((l) => l.msg === 'request' && l.status === 401)).toHaveLength(4);
    expect(lines.join('')).not.toContain(KEY);
  });

  it('lets x-wx-source through only when trusted', async () => {
    const headers = { 'x-wx-source': 'wxcloudrun' };
    expect((await build(64, false).app.request('/v1/ping', { headers })).status).toBe(401);
    expect((await build(64, true).app.request('/v1/ping', { headers })).status).toBe(200);
    const plural = { 'x-wx-sources': 'wxcloudrun' };
    expect((await build(64, true).app.request('/v1/ping', { headers: plural })).status).toBe(200);
    const blanks: Record<string, string>[] = [
      { 'x-wx-source': '' },
      { 'x-wx-source': '  ' },
      { 'x-wx-sources': '\t' },
      { 'x-wx-source': ' ', 'x-wx-sources': '' },
    ];
    for (const blank of blanks) {
      const res = await build(64, true).app.request('/v1/ping', { headers: blank });
      expect([blank, res.status]).toEqual([blank, 401]);
    }
  });

  it('takes blank x-wx-source headers for none over real HTTP, repeated ones too', async () => {
    const server = await listen(build(64, true).app, 0, createLogger('silent'), '127.0.0.1');
    try {
      const status = (headers: Record<string, string | string[]>) =>
        new Promise<number>((resolve, reject) => {
          const req = request(`${server.url}/v1/ping`, { headers }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
      expect(await status({ 'x-wx-source': 'wxcloudrun' })).toBe(200);
      const repeated: Record<string, string[]>[] = [
        { 'x-wx-source': ['', ''] },
        { 'x-wx-sources': [' ', ''] },
      ];
      for (const blank of repeated) {
        expect([blank, await status(blank)]).toEqual([blank, 401]);
      }
    } finally {
      await server.close(100);
    }
  });

  it('answers 404 in the envelope for an unknown route', async () => {
    const res = await build().app.request('/nope');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('hides the routes WXHUB_EXPOSE leaves out behind the 404 of an unknown route', async () => {
    const auth = { authorization: `Bearer ${KEY}`, 'x-wx-source': 'x' };
    // What a caller sees, request id aside: the status, the headers' names and the body.
    const seen = async (res: Response) => {
      const body = (await res.json()) as { error: { requestId?: string } };
      expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
      body.error.requestId = undefined;
      return { status: res.status, headers: [...res.headers.keys()].sort(), body };
    };
    const pub = build(64, true, 'public');
    expect((await pub.app.request('/wx/ping')).status).toBe(200);
    expect((await pub.app.request('/healthz')).status).toBe(200);
    const internal = build(64, true, 'internal');
    expect((await internal.app.request('/v1/ping', { headers: auth })).status).toBe(200);
    expect((await internal.app.request('/healthz')).status).toBe(200);
    const cases: [typeof pub, string, string][] = [
      [pub, 'GET', '/v1/ping'],
      [pub, 'POST', '/v1/ping'],
      [pub, 'GET', '/v1'],
      [internal, 'GET', '/wx/ping'],
      [internal, 'POST', '/echo'],
    ];
    for (const [{ app }, method, path] of cases) {
      for (const headers of [{}, auth]) {
        const hidden = await app.request(path, {
          method,
          headers,
          body: method === 'POST' ? 'x' : undefined,
        });
        const unknown = await app.request(`${path}-unknown`, { method, headers });
        expect(await seen(hidden), `${method} ${path}`).toEqual({
          ...(await seen(unknown)),
          body: { error: { code: 'NOT_FOUND', message: `no route for ${method} ${path}` } },
        });
      }
    }
    // Served everywhere without the setting.
    const all = build(64, true);
    for (const path of ['/wx/ping', '/v1/ping', '/healthz']) {
      expect((await all.app.request(path, { headers: auth })).status, path).toBe(200);
    }
  });

  it('writes a bounded access line and echoes a short prefix for an 8 KB unknown path', async () => {
    const { app, lines } = build();
    for (const method of ['GET', 'POST']) {
      lines.length = 0;
      const res = await app.request(`/wx/${'a'.repeat(8_192)}/callback`, { method });
      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toBe(`no route for ${method} /wx/${'a'.repeat(60)}…[+8141]`);
      expect(lines).toHaveLength(1);
      expect(Buffer.byteLength(lines.join(''))).toBeLessThan(512);
      const line = JSON.parse(lines[0] ?? '') as { path: string; status: number };
      expect(line.status).toBe(404);
      expect(line.path).toBe(`/wx/${'a'.repeat(252)}…[+7949]`);
    }
  });

  it('answers 503 with db down once the database is closed', async () => {
    const { app } = build();
    await opened.store.close();
    const res = await app.request('/healthz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', db: 'down' });
  });
});

describe('key matcher', () => {
  const keys = ['k'.repeat(16), 'ключ-ключ-ключ-ключ', 'z'.repeat(200)];
  const matches = createKeyMatcher(keys);

  it('accepts exactly the configured keys', () => {
    for (const k of keys) expect(matches(k)).toBe(true);
  });

  it('refuses prefixes, extensions, zero padding and keys wider than any configured', () => {
    for (const bad of [
      '',
      'k'.repeat(15),
      'k'.repeat(17),
      `${'k'.repeat(16)}\u0000`,
      'ключ-ключ-ключ-клю',
      'z'.repeat(201),
      `${'z'.repeat(200)}${'z'.repeat(500)}`,
      'K'.repeat(16),
    ]) {
      expect(matches(bad), JSON.stringify(bad.slice(0, 20))).toBe(false);
    }
  });

  it('refuses everything when no key is configured', () => {
    const none = createKeyMatcher([]);
    expect(none('')).toBe(false);
    expect(none('k'.repeat(16))).toBe(false);
  });
});
