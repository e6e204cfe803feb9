import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exposure, isExposed } from '../shared/http/exposure';
import { createLogger } from '../shared/http/log';
import { listen, type RunningServer } from '../shared/platform/server';
import { testTargets } from '../shared/store/testing';
import { wechatSignature } from '../shared/wechat/message-crypto';
import { AUTH, createTestHub, type TestHub, testApp } from './testing';

const [sqlite] = testTargets();
if (sqlite === undefined) throw new Error('no SQLite target');

/** A request with the path sent exactly as written (fetch would normalise it). */
function rawGet(url: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('exposure of the hub (WXHUB_EXPOSE)', () => {
  const oa = testApp({ tokenMode: 'classic', token: 'oatoken123' });
  const hubs: Partial<Record<Exposure, { hub: TestHub; server: RunningServer }>> = {};
  beforeAll(async () => {
    for (const expose of ['public', 'internal'] as const) {
      const hub = await createTestHub(sqlite, { apps: [oa], env: { WXHUB_EXPOSE: expose } });
      const server = await listen(hub.app, 0, createLogger('error'), '127.0.0.1');
      hubs[expose] = { hub, server };
    }
  });
  afterAll(async () => {
    for (const h of Object.values(hubs)) {
      await h.server.close(1_000);
      await h.hub.close();
    }
  });

  it('puts every mounted route in exactly one of public and internal, /healthz in both', () => {
    const routes = (hubs.public?.hub.app.routes ?? []).filter(
      (r) => r.method !== 'ALL' || r.path !== '/*',
    );
    expect(routes.length).toBeGreaterThan(10);
    for (const { method, path } of routes) {
      const where = (['public', 'internal'] as const).filter((e) => isExposed(path, e));
      // The API document and its reference page describe the internal routes: internal too.
      const internal = /^\/(v1\/|openapi\.json$|metrics$|docs$|docs\/)/.test(path);
      expect(where, `${method} ${path}`).toEqual(
        path === '/healthz' ? ['public', 'internal'] : [internal ? 'internal' : 'public'],
      );
    }
  });

  it('answers a token read only on the internal service, WeChat only on the public one', async () => {
    const token = `/v1/apps/${oa.name}/token`;
    // WeChat's server verification, signed with the app's token.
    const ts = 1714036504;
    const echo = `/wx/${oa.name}/callback?timestamp=${ts}&nonce=1&echostr=42&signature=${wechatSignature('oatoken123', String(ts), '1')}`;
    for (const h of Object.values(hubs)) h.hub.sim.sim.clock.set(ts * 1000);
    const status = (e: Exposure, path: string) =>
      rawGet(hubs[e]?.server.url ?? '', path, { ...AUTH, 'x-wx-source': 'x' });
    expect(await status('internal', token)).toBe(200);
    expect(await status('public', token)).toBe(404);
    expect(await status('public', echo)).toBe(200);
    expect(await status('internal', echo)).toBe(404);
    expect(await status('public', '/healthz')).toBe(200);
    expect(await status('internal', '/healthz')).toBe(200);
  });

  it('does not reach an internal route on the public service through a disguised path', async () => {
    const tokenPath = `apps/${oa.name}/token`;
    for (const path of [
      `//v1/${tokenPath}`,
      `/v1//${tokenPath}`,
      `/V1/${tokenPath}`,
      `/%76%31/${tokenPath}`,
      `/wx/../v1/${tokenPath}`,
      `/wx/%2e%2e/v1/${tokenPath}`,
      `/wx%2f..%2fv1/${tokenPath}`,
      `/pay/../v1/${tokenPath}`,
      `/healthz/../v1/${tokenPath}`,
    ]) {
      expect(await rawGet(hubs.public?.server.url ?? '', path, AUTH), path).toBe(404);
    }
  });
});
