import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MISS_CACHE_SIZE } from '../shared/apps/registry';
import { createLogger } from '../shared/http/log';
import { listen, type RunningServer } from '../shared/platform/server';
import { testTargets } from '../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from './testing';
import { signPush } from './wx-callback/testing';

/**
 * Sends `raw` on a keep-alive connection and reads until the server closes it or 3 s pass (a
 * connection kept open after the answer). The head is everything before the first blank line.
 */
function rawRequest(port: number, raw: string): Promise<{ head: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const done = (closedByServer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ head: received.split('\r\n\r\n')[0] ?? '', closedByServer });
    };
    const timer = setTimeout(() => done(false), 3_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('end', () => done(true));
    socket.on('error', reject);
    socket.write(raw);
  });
}

// The same routes as the in-process tests, through Node's HTTP server: @hono/node-server takes
// other paths there (headers read from the incoming message, headers set on the outgoing one,
// cached response bodies), and those are what production runs.
describe.each(testTargets())('hub over real HTTP on $name', (target) => {
  const oa = testApp({ tokenMode: 'classic' });
  const plain = testApp({ token: 'servertesttoken', messageMode: 'plain' });
  let hub: TestHub;
  let server: RunningServer;
  beforeAll(async () => {
    hub = await createTestHub(target, {
      apps: [oa, plain],
      env: { WXHUB_BODY_LIMIT_BYTES: '1024' },
    });
    server = await listen(hub.app, 0, createLogger('error'), '127.0.0.1');
  });
  afterAll(async () => {
    await server.close(1_000);
    await hub.close();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, init);

  it('serves the cached token again and again with a correct length and a fresh request id', async () => {
    const bodies: string[] = [];
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await call(`/v1/apps/${oa.name}/token`, { headers: AUTH });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      const text = await res.text();
      expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(text));
      ids.add(res.headers.get('x-request-id') ?? '');
      bodies.push(text);
    }
    expect(new Set(bodies).size).toBe(1);
    expect(ids.size).toBe(5);
    const body = JSON.parse(bodies[0] ?? '{}') as { appId: string; accessToken: string };
    expect(body.appId).toBe(oa.appId);
    expect(hub.sim.sim.isTokenValid(body.accessToken)).toBe(true);
    expect(hub.sim.sim.calls('/cgi-bin/token', oa.appId)).toBe(1);
  });

  it('echoes a safe x-request-id on success and on refusal', async () => {
    const ok = await call(`/v1/apps/${oa.name}/token`, {
      headers: { ...AUTH, 'x-request-id': 'caller-42' },
    });
    expect(ok.headers.get('x-request-id')).toBe('caller-42');
    const refused = await call(`/v1/apps/${oa.name}/token`, {
      headers: { 'x-request-id': 'caller-43' },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toBe('caller-43');
    expect(((await refused.json()) as { error: { requestId: string } }).error.requestId).toBe(
      'caller-43',
    );
  });

  it('sends the request id once on answers the routes build and on those the base app adds it to', async () => {
    const cases: [string, RequestInit, number][] = [
      [`/v1/apps/${oa.name}/token`, { headers: AUTH }, 200],
      ['/healthz', {}, 200],
      ['/v1/apps/no-such-app/token', { headers: AUTH }, 404],
      [`/v1/apps/${oa.name}/ticket?type=nope`, { headers: AUTH }, 400],
      [
        `/v1/apps/${oa.name}/token/invalidate`,
        { method: 'POST', headers: AUTH, body: 'x'.repeat(2_000) },
        413,
      ],
      [`/v1/apps/${oa.name}/token`, { method: 'HEAD', headers: AUTH }, 200],
    ];
    for (const [i, [path, init, status]] of cases.entries()) {
      const id = `caller-${i}`;
      const res = await call(path, { ...init, headers: { ...init.headers, 'x-request-id': id } });
      expect([path, res.status]).toEqual([path, status]);
      expect([path, res.headers.get('x-request-id')]).toEqual([path, id]);
    }
  });

  it('refuses a wrong key and a missing one, and serves unauthenticated routes', async () => {
    const wrong = await call(`/v1/apps/${oa.name}/token`, {
      headers: { authorization: 'Bearer not-the-key-0000000' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect((await call('/v1/refresh', { method: 'POST' })).status).toBe(401);
    expect((await call('/healthz')).status).toBe(200);
  });

  it('answers 413 for a body over the limit and 404 for an unknown app', async () => {
    const big = await call(`/v1/apps/${oa.name}/token/invalidate`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ accessToken: 'x'.repeat(2_000) }),
    });
    expect(big.status).toBe(413);
    const missing = await call('/v1/apps/no-such-app/token', { headers: AUTH });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('answers 413 with Connection: close and closes the connection, the body left unread', async () => {
    const body = JSON.stringify({ accessToken: 'x'.repeat(2_000) });
    const { head, closedByServer } = await rawRequest(
      server.port,
      `POST /v1/apps/${oa.name}/token/invalidate HTTP/1.1\r\nHost: hub\r\n` +
        `Authorization: ${AUTH.authorization}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(head.toLowerCase()).toContain('\r\nconnection: close\r\n');
    expect(closedByServer).toBe(true);
  });

  it('reads a push body as sent: across packets, multi-byte text split, leading BOM dropped, chunked too', async () => {
    const now = Math.floor(hub.sim.sim.clock.now() / 1000);
    const push = (msgId: string) =>
      signPush({
        app: plain.name,
        token: 'servertesttoken',
        timestamp: now,
        nonce: msgId,
        message: `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[o-x]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好，世界]]></Content><MsgId>${msgId}</MsgId></xml>`,
      });
    // Declared length, sent in two writes that cut a three-byte character, after a BOM.
    const first = push('7100000001');
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(first.body)]);
    const cut = bytes.indexOf(Buffer.from('你')) + 1;
    const socket = connect(server.port, '127.0.0.1');
    const answered = new Promise<string>((resolve, reject) => {
      let got = '';
      socket.on('data', (chunk: Buffer) => {
        got += chunk.toString('utf8');
        if (got.includes('\r\n\r\n')) resolve(got);
      });
      socket.on('error', reject);
    });
    socket.write(
      `POST ${first.path} HTTP/1.1\r\nHost: hub\r\nContent-Type: text/xml\r\n` +
        `Content-Length: ${bytes.length}\r\n\r\n`,
    );
    socket.write(bytes.subarray(0, cut));
    await new Promise((r) => setTimeout(r, 20));
    socket.write(bytes.subarray(cut));
    expect((await answered).split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    socket.destroy();
    const stored = await hub.deps.store.messages.get(plain.name, 'msg:7100000001');
    expect(stored?.raw).toBe(first.body);
    expect(stored?.parsed.Content).toBe('你好，世界');

    // No declared length (chunked): read and limited as it streams in.
    const second = push('7100000002');
    const streamed = (text: string) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          const b = Buffer.from(text);
          controller.enqueue(b.subarray(0, 10));
          controller.enqueue(b.subarray(10));
          controller.close();
        },
      });
    const init = (body: ReadableStream<Uint8Array>) =>
      ({ method: 'POST', body, duplex: 'half' }) as RequestInit;
    const ok = await call(second.path, init(streamed(second.body)));
    expect([ok.status, await ok.text()]).toEqual([200, 'success']);
    expect((await hub.deps.store.messages.get(plain.name, 'msg:7100000002'))?.raw).toBe(
      second.body,
    );
    const big = await call(push('7100000003').path, init(streamed('x'.repeat(2_000))));
    expect(big.status).toBe(413);
  });

  it('keeps a bounded number of unknown names and looks up no name a row cannot have', async () => {
    const before = { apps: hub.deps.apps.size(), merchants: hub.deps.merchants.size() };
    const names = Array.from({ length: MISS_CACHE_SIZE + 500 }, (_, i) => `made-up-${i}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(
        names.slice(i, i + 20).map(async (n) => {
          const cb = await call(`/wx/${n}/callback`);
          const pay = await call(`/pay/${n}/notify`, { method: 'POST', body: '{}' });
          expect([cb.status, pay.status]).toEqual([404, 404]);
          await Promise.all([cb.text(), pay.text()]);
        }),
      );
    }
    expect(hub.deps.apps.size()).toBeLessThanOrEqual(before.apps + MISS_CACHE_SIZE);
    expect(hub.deps.merchants.size()).toBeLessThanOrEqual(before.merchants + MISS_CACHE_SIZE);
    hub.deps.apps.forget();
    const long = await call(`/wx/${'a'.repeat(8_000)}/callback`);
    expect(long.status).toBe(404);
    expect((await long.text()).length).toBeLessThan(200);
    expect(hub.deps.apps.size()).toBe(0);
  });
});
