import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../http/log';
import { listen, type RunningServer } from '../platform/server';
import { clientIp } from './headers';

const app = new Hono();
app.get('/ip', (c) => c.json({ ip: clientIp(c) ?? null }));

describe('clientIp', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await listen(app, 0, createLogger('silent'), '127.0.0.1');
  });
  afterAll(async () => {
    await server.close();
  });
  const ipOver = async (headers: Record<string, string> = {}) =>
    ((await (await fetch(`${server.url}/ip`, { headers })).json()) as { ip: string | null }).ip;

  it('over a socket: the last x-forwarded-for entry (the nearest proxy), else the peer', async () => {
    // A client-made first entry is not believed: the proxy appended the address it saw.
    expect(await ipOver({ 'x-forwarded-for': '6.6.6.6, 203.0.113.9' })).toBe('203.0.113.9');
    expect(await ipOver({ 'x-forwarded-for': '203.0.113.9' })).toBe('203.0.113.9');
    expect(await ipOver({ 'x-forwarded-for': '6.6.6.6,203.0.113.10 ' })).toBe('203.0.113.10');
    expect(await ipOver()).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  it("on SCF: the gateway's sourceIp (the stand-in socket serverless-http makes), whatever the header says", async () => {
    const xff = { 'x-forwarded-for': '6.6.6.6, 10.0.0.1' };
    const scf = { incoming: { headers: xff, socket: { remoteAddress: '198.51.100.7' } } };
    const res = await app.request('/ip', { headers: xff }, scf);
    expect(await res.json()).toEqual({ ip: '198.51.100.7' });
  });
});
