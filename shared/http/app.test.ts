import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedStore } from '../store/testing';
import { openTestStore, testTargets } from '../store/testing';
import { createBaseApp } from './app';
import { createLogger } from './log';

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

  const build = (bodyLimitBytes = 64) => {
    const { lines, log } = capture();
    const app = createBaseApp({ store: opened.store, log, config: { bodyLimitBytes } });
    app.post('/echo', async (c) => c.text(await c.req.text()));
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
    const { app } = build(64);
    const ok = await app.request('/echo', { method: 'POST', body: 'x'.repeat(64) });
    expect(ok.status).toBe(200);
    const res = await app.request('/echo', { method: 'POST', body: 'x'.repeat(65) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: 'request body exceeds 64 bytes',
        requestId: res.headers.get('x-request-id'),
      },
    });
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

  it('answers 404 in the envelope for an unknown route', async () => {
    const res = await build().app.request('/nope');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('answers 503 with db down once the database is closed', async () => {
    const { app } = build();
    await opened.store.close();
    const res = await app.request('/healthz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', db: 'down' });
  });
});

describe('logger', () => {
  it('redacts secrets and tokens by field name', () => {
    const { lines, log } = capture();
    log.info(
      {
        accessToken: 'TOKEN-1',
        app: { appSecret: 'SECRET-1', name: 'oa' },
        authorization: 'Bearer K',
      },
      'x',
    );
    const line = lines.join('');
    expect(line).toContain('"name":"oa"');
    for (const s of ['TOKEN-1', 'SECRET-1', 'Bearer K']) expect(line).not.toContain(s);
  });
});
