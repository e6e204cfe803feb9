import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLiveSimClock, createSimulator, type RunningSimulator } from '../../../dev/simulator';
import { startSimulator } from '../../../dev/simulator/server';
import { testComponentApp } from '../../../functions/component-fixture';
import { TEST_API_KEY, testApp } from '../../../functions/testing';
import type { AppConfig } from '../../../shared/config';
import {
  openTestStore,
  TEST_SECRET_KEY,
  type TestTarget,
  testTargets,
} from '../../../shared/store/testing';
import { currentDocument } from '../scripts/schema';
import { createClient, type WxhubClientOptions } from './client';
import { WxhubError } from './errors';
import { verifySession } from './session';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The hub as `npm start` runs it (functions/server.ts), in a process of its own. */
interface HubProcess {
  url: string;
  /** Resolves with the first log line whose `msg` is `msg` (fails if the hub exits first). */
  logged(msg: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

function databaseUrl(target: TestTarget): string {
  const db = target.config;
  return db.dialect === 'sqlite' ? `file:${db.path}` : db.url;
}

/** Starts functions/server.ts on a free port and waits for its `serving` line. */
async function startHubProcess(env: Record<string, string>): Promise<HubProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'functions/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
    const parts = out.split('\n');
    out = parts.pop() ?? '';
    for (const line of parts) if (line.startsWith('{')) lines.push(JSON.parse(line));
    for (const w of waiters) w();
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const logged = (msg: string) =>
    new Promise<Record<string, unknown>>((done, fail) => {
      const check = () => {
        const line = lines.find((l) => l.msg === msg);
        if (line !== undefined) {
          waiters.delete(check);
          done(line);
        } else if (child.exitCode !== null) {
          waiters.delete(check);
          fail(new Error(`hub exited (${child.exitCode}) before logging ${msg}:\n${stderr}`));
        }
      };
      waiters.add(check);
      child.once('exit', check);
      check();
    });
  const { url } = (await logged('serving')) as { url: string };
  return {
    url,
    logged,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Counts the requests a client makes to the hub, by method and path. */
function countingFetch() {
  const seen: string[] = [];
  const fetchFn = (request: Request) => {
    seen.push(`${request.method} ${new URL(request.url).pathname}`);
    return fetch(request);
  };
  return { seen, fetchFn };
}

describe.each(testTargets())('@wxhub/client against a hub process on $name', (target) => {
  const oa = testApp({ tokenMode: 'classic' });
  // One app per dead-token test: the hub refreshes an app's token at most once per 30 s on
  // invalidation (a second report in that time answers the current token, RATE_LIMITED).
  const faulted = testApp({ tokenMode: 'classic' });
  const killed = testApp({ tokenMode: 'stable' });
  const twice = testApp({ tokenMode: 'classic' });
  const shared = testApp({ tokenMode: 'classic' });
  const rejecting = testApp({ tokenMode: 'classic' });
  const mp = testApp({ kind: 'miniprogram' });
  const component = testComponentApp();
  const authorizerAppId = `wxa${String(Date.now()).slice(-10)}0001`;
  let sim: RunningSimulator;
  let hub: HubProcess;
  let counted: ReturnType<typeof countingFetch>;
  const client = (over: Partial<WxhubClientOptions> = {}) =>
    createClient({ baseUrl: hub.url, apiKey: TEST_API_KEY, fetch: counted.fetchFn, ...over });
  /** WeChat's API as a service calls it itself: the JSON answer of `GET {sim}/{path}`. */
  const wechat = async (path: string, accessToken: string) =>
    (await (await fetch(`${sim.url}/${path}?access_token=${accessToken}`)).json()) as {
      errcode?: number;
      ip_list?: string[];
    };

  beforeAll(async () => {
    sim = await startSimulator({ sim: createSimulator({ clock: createLiveSimClock() }) });
    const apps: AppConfig[] = [oa, faulted, killed, twice, shared, rejecting, mp, component];
    for (const a of [oa, faulted, killed, twice, shared, rejecting, mp])
      sim.sim.registerApp({ appId: a.appId, secret: a.appSecret ?? '' });
    sim.sim.registerComponent({
      appId: component.appId,
      secret: component.appSecret ?? '',
      token: component.token ?? '',
      encodingAesKey: component.encodingAesKey ?? '',
    });
    // The migrations run by the hub need the database to exist (MySQL: one per test file).
    await (await openTestStore(target)).store.close();
    hub = await startHubProcess({
      DATABASE_URL: databaseUrl(target),
      WXHUB_SECRET_KEY: TEST_SECRET_KEY.toString('base64'),
      WECHAT_API_BASE: sim.url,
      WXHUB_API_KEYS: TEST_API_KEY,
      WXHUB_APPS: JSON.stringify({ apps }),
      WXHUB_MESSAGE_RETENTION_DAYS: '0',
      WXHUB_REFRESH_INTERVAL_SECONDS: '3600',
      WXHUB_JWT_ISSUER: 'https://hub.example.com',
    });
    // The schedule's first pass (1 s after start) fetches every app's token: the tests start
    // after it, so what they count is theirs alone (the next pass is an hour later).
    await hub.logged('refresh pass');
    const eventUrl = `${hub.url}/wx/${component.name}/component/event`;
    await sim.sim.pushTicket(component.appId, eventUrl);
    const pushed = await sim.sim.authorize(component.appId, authorizerAppId, { url: eventUrl });
    expect(pushed.body).toBe('success');
  });
  afterAll(async () => {
    await hub?.stop();
    await sim?.close();
  });
  beforeEach(() => {
    counted = countingFetch();
    sim.sim.clearFaults();
  });

  it('talks to a hub serving the document its types were generated from', async () => {
    const res = await fetch(`${hub.url}/openapi.json`, {
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(currentDocument()));
  });

  it('serves a token from its cache the second time, and one request for concurrent callers', async () => {
    const hubClient = client();
    const first = await hubClient.token(oa.name);
    expect(first.appId).toBe(oa.appId);
    expect(sim.sim.isTokenValid(first.accessToken)).toBe(true);
    expect(counted.seen).toEqual([`GET /v1/apps/${oa.name}/token`]);
    const second = await hubClient.token(oa.name);
    expect(second).toEqual(first);
    expect(counted.seen).toHaveLength(1);

    const fresh = client();
    const all = await Promise.all(Array.from({ length: 5 }, () => fresh.token(oa.name)));
    expect(new Set(all.map((t) => t.accessToken))).toEqual(new Set([first.accessToken]));
    expect(counted.seen).toHaveLength(2);
  });

  it('asks the hub again once the cached token is within its margin of expiry or too old', async () => {
    let now = Date.now();
    const hubClient = client({ now: () => now, tokenMaxAgeMs: 60_000, tokenMarginMs: 30_000 });
    const { expiresAt } = await hubClient.token(oa.name);
    now += 59_000;
    await hubClient.token(oa.name);
    expect(counted.seen).toHaveLength(1);
    now += 2_000;
    await hubClient.token(oa.name);
    expect(counted.seen).toHaveLength(2);

    const nearExpiry = client({ now: () => now, tokenMaxAgeMs: 10 * 3_600_000 });
    await nearExpiry.token(oa.name);
    now = Date.parse(expiresAt) - 60_000 - 1;
    await nearExpiry.token(oa.name);
    expect(counted.seen).toHaveLength(3);
    now += 2;
    await nearExpiry.token(oa.name);
    expect(counted.seen).toHaveLength(4);
  });

  it('invalidates and retries once when WeChat answers 40001 to the service', async () => {
    const hubClient = client();
    const before = await hubClient.token(faulted.name);
    sim.sim.resetCounters();
    counted.seen.length = 0;
    sim.sim.injectFault({ path: '/cgi-bin/getcallbackip', appId: faulted.appId, errcode: 40001 });
    const used: string[] = [];
    const answer = await hubClient.withToken(faulted.name, (t) => {
      used.push(t);
      return wechat('cgi-bin/getcallbackip', t);
    });
    expect(answer.errcode).toBeUndefined();
    expect(answer.ip_list?.length).toBeGreaterThan(0);
    expect(used).toHaveLength(2);
    expect(used[0]).toBe(before.accessToken);
    expect(used[1]).not.toBe(before.accessToken);
    expect(counted.seen).toEqual([`POST /v1/apps/${faulted.name}/token/invalidate`]);
    expect(sim.sim.calls('/cgi-bin/getcallbackip', faulted.appId)).toBe(2);
    expect(sim.sim.calls('/cgi-bin/token', faulted.appId)).toBe(1);
    // The new token is the one cached now.
    expect((await hubClient.token(faulted.name)).accessToken).toBe(used[1]);
    expect(counted.seen).toHaveLength(1);
  });

  it('recovers a token killed at WeChat, the answer given as a Response', async () => {
    const hubClient = client();
    const dead = await hubClient.token(killed.name);
    expect(sim.sim.killToken(dead.accessToken)).toBe(true);
    counted.seen.length = 0;
    const res = await hubClient.withToken(killed.name, (t) =>
      fetch(`${sim.url}/cgi-bin/getcallbackip?access_token=${t}`),
    );
    expect(((await res.json()) as { ip_list?: string[] }).ip_list?.length).toBeGreaterThan(0);
    expect(counted.seen).toEqual([`POST /v1/apps/${killed.name}/token/invalidate`]);
  });

  it('retries only once: a second dead-token answer is the caller’s', async () => {
    const hubClient = client();
    await hubClient.token(twice.name);
    sim.sim.resetCounters();
    counted.seen.length = 0;
    sim.sim.injectFault({
      path: '/cgi-bin/getcallbackip',
      appId: twice.appId,
      errcode: 42001,
      times: 3,
    });
    const answer = await hubClient.withToken(twice.name, (t) => wechat('cgi-bin/getcallbackip', t));
    expect(answer.errcode).toBe(42001);
    expect(counted.seen).toEqual([`POST /v1/apps/${twice.name}/token/invalidate`]);
    expect(sim.sim.calls('/cgi-bin/getcallbackip')).toBe(2);
  });

  it('sends one invalidation for concurrent callers that met the same dead token', async () => {
    const hubClient = client();
    const before = await hubClient.token(shared.name);
    counted.seen.length = 0;
    sim.sim.injectFault({
      path: '/cgi-bin/getcallbackip',
      appId: shared.appId,
      errcode: 40014,
      times: 3,
    });
    const answers = await Promise.all(
      Array.from({ length: 3 }, () =>
        hubClient.withToken(shared.name, (t) => wechat('cgi-bin/getcallbackip', t)),
      ),
    );
    expect(answers.map((a) => a.ip_list !== undefined)).toEqual([true, true, true]);
    expect(counted.seen).toEqual([`POST /v1/apps/${shared.name}/token/invalidate`]);
    expect((await hubClient.token(shared.name)).accessToken).not.toBe(before.accessToken);
    expect(counted.seen).toHaveLength(1);
  });

  it('answers other WeChat errors without an invalidation', async () => {
    const hubClient = client();
    await hubClient.token(oa.name);
    counted.seen.length = 0;
    sim.sim.injectFault({ path: '/cgi-bin/getcallbackip', errcode: 45009 });
    const answer = await hubClient.withToken(oa.name, (t) => wechat('cgi-bin/getcallbackip', t));
    expect(answer.errcode).toBe(45009);
    expect(counted.seen).toEqual([]);
  });

  it('builds a jssdk config whose signature is WeChat’s over the jsapi ticket', async () => {
    const hubClient = client();
    const url = 'https://shop.example.com/page?x=1';
    const cfg = await hubClient.jssdkConfig(oa.name, url);
    expect(cfg.appId).toBe(oa.appId);
    const { data: ticket } = await hubClient.api.GET('/v1/apps/{app}/ticket', {
      params: { path: { app: oa.name }, query: { type: 'jsapi' } },
    });
    const signed = `jsapi_ticket=${ticket?.ticket}&noncestr=${cfg.nonceStr}&timestamp=${cfg.timestamp}&url=${url}`;
    expect(cfg.signature).toBe(createHash('sha1').update(signed).digest('hex'));
    const refused = await hubClient.jssdkConfig(oa.name, 'ftp://x').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WxhubError);
    expect(refused).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  });

  it('proxies a WeChat call and throws the hub’s own refusals', async () => {
    const hubClient = client();
    sim.sim.resetCounters();
    const res = await hubClient.proxy(oa.name, '/cgi-bin/getcallbackip');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { ip_list?: string[] }).ip_list?.length).toBeGreaterThan(0);
    expect(sim.sim.calls('/cgi-bin/getcallbackip', oa.appId)).toBe(1);
    // WeChat's own error is WeChat's answer, passed on.
    sim.sim.injectFault({ path: '/cgi-bin/getcallbackip', errcode: 45009 });
    const limited = await hubClient.proxy(oa.name, 'cgi-bin/getcallbackip');
    expect(((await limited.json()) as { errcode: number }).errcode).toBe(45009);
    // A path that mints a credential is the hub's refusal.
    const refused = await hubClient
      .proxy(oa.name, 'cgi-bin/token?grant_type=client_credential')
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WxhubError);
    expect(refused).toMatchObject({ code: 'FORBIDDEN', status: 403 });
  });

  it('serves a component’s token and its authorizer’s, with the retry on the authorizer’s', async () => {
    const hubClient = client();
    const componentToken = await hubClient.componentToken(component.name);
    expect(componentToken.appId).toBe(component.appId);
    await hubClient.componentToken(component.name);
    const authorizer = await hubClient.authorizerToken(component.name, authorizerAppId);
    expect(authorizer.appId).toBe(authorizerAppId);
    expect(sim.sim.isTokenValid(authorizer.accessToken)).toBe(true);
    expect(counted.seen).toEqual([
      `GET /v1/components/${component.name}/token`,
      `GET /v1/components/${component.name}/authorizers/${authorizerAppId}/token`,
    ]);
    counted.seen.length = 0;
    sim.sim.injectFault({ path: '/cgi-bin/getcallbackip', errcode: 40001 });
    const answer = await hubClient.withAuthorizerToken(component.name, authorizerAppId, (t) =>
      wechat('cgi-bin/getcallbackip', t),
    );
    expect(answer.ip_list?.length).toBeGreaterThan(0);
    expect(counted.seen).toEqual([
      `POST /v1/components/${component.name}/authorizers/${authorizerAppId}/token/invalidate`,
    ]);
    const proxied = await hubClient.authorizerProxy(
      component.name,
      authorizerAppId,
      'cgi-bin/getcallbackip',
    );
    expect(((await proxied.json()) as { ip_list?: string[] }).ip_list?.length).toBeGreaterThan(0);
  });

  it('throws WxhubError with the hub’s code, message, request id and status, and no key', async () => {
    const missing = await client()
      .token('no-such-app')
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(WxhubError);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect((missing as WxhubError).requestId).toMatch(/\S/);
    const wrongKey = 'wrong-key-0123456789abcdef';
    const refused = await client({ apiKey: wrongKey })
      .token(oa.name)
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect(JSON.stringify(refused)).not.toContain(wrongKey);
    expect(String((refused as Error).message)).not.toContain(wrongKey);
    const down = await createClient({ baseUrl: 'http://127.0.0.1:1', apiKey: TEST_API_KEY })
      .token(oa.name)
      .catch((e: unknown) => e);
    expect(down).toMatchObject({ code: 'UNREACHABLE', status: 0 });
    // WeChat refused the hub: its errcode comes with the hub's 502.
    sim.sim.injectFault({
      path: '/cgi-bin/ticket/getticket',
      appId: rejecting.appId,
      errcode: 40164,
    });
    const upstream = await client()
      .jssdkConfig(rejecting.name, 'https://shop.example.com/')
      .catch((e: unknown) => e);
    expect(upstream).toMatchObject({ code: 'UPSTREAM_WECHAT', status: 502, errcode: 40164 });
    expect(String((down as Error).message)).not.toContain(TEST_API_KEY);
  });
  it('verifies a login session token with the keys the hub publishes, and refuses another app or a forged one', async () => {
    const code = sim.sim.issueLoginCode(mp.appId, 'o-client-1');
    const res = await client().api.POST('/v1/apps/{app}/login', {
      params: { path: { app: mp.name } },
      body: { code },
    });
    const token = res.data?.token ?? '';
    const opts = { hubUrl: hub.url, issuer: 'https://hub.example.com', audience: mp.name };
    expect(await verifySession(token, opts)).toMatchObject({ openid: 'o-client-1', app: mp.name });
    await expect(verifySession(token, { ...opts, audience: oa.name })).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
    const [head, body] = token.split('.');
    const unsigned = `${Buffer.from('{"alg":"none","typ":"wxhub-session+jwt"}').toString('base64url')}.${body}.`;
    await expect(verifySession(unsigned, opts)).rejects.toThrow();
    expect(head).toBeDefined();
  });
});
