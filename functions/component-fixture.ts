import type { RunningSimulator } from '../dev/simulator';
import type { AppConfig } from '../shared/config';
import { createLogger } from '../shared/http/log';
import { listen, type RunningServer } from '../shared/platform/server';
import type { TestTarget } from '../shared/store/testing';
import { AUTH, createTestHub, type TestHub, type TestHubOptions, testApp } from './testing';

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

let seq = 0;
/** A fresh authorizer appid (tests share their file's database). */
export const newAuthorizer = () =>
  `wxa${String(Date.now()).slice(-8)}${String(seq++).padStart(5, '0')}`;

/** A third-party platform served by `n` hubs over real HTTP, registered in `sim`, with a ticket. */
export interface ComponentFixture {
  app: AppConfig;
  hubs: { hub: TestHub; server: RunningServer }[];
  /** The first hub. */
  hub: TestHub;
  eventUrl(i?: number): string;
  /** Authorizes `authorizer` through the auth-event URL (the hub exchanges the code). */
  authorize(authorizer: string): Promise<void>;
  /** Revokes `authorizer` and tells the hub (`unauthorized`). */
  unauthorize(authorizer: string): Promise<void>;
  /** A request to hub `i` with the test key (or `headers`). */
  request(path: string, init?: RequestInit & { hub?: number }): Promise<Response>;
  close(): Promise<void>;
}

/** A component app (unique name and appid) with the tests' token and AES key, safe mode. */
export function testComponentApp(over: Partial<AppConfig> = {}): AppConfig {
  const base = testApp();
  return {
    ...base,
    kind: 'component',
    appId: `wxc${base.appId.slice(3)}`,
    token: 'ComponentToken1',
    encodingAesKey: AES_KEY,
    messageMode: 'safe',
    ...over,
  };
}

export async function componentFixture(
  target: TestTarget,
  sim: RunningSimulator,
  n = 1,
  opts: Omit<TestHubOptions, 'apps' | 'sim'> = {},
): Promise<ComponentFixture> {
  const app = testComponentApp();
  const hubs: { hub: TestHub; server: RunningServer }[] = [];
  for (let i = 0; i < n; i++) {
    const hub = await createTestHub(target, { ...opts, apps: [app], sim });
    const server = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
    hubs.push({ hub, server });
  }
  const first = hubs[0]?.hub;
  if (first === undefined) throw new Error('no hub');
  const eventUrl = (i = 0) => `${hubs[i]?.server.url}/wx/${app.name}/component/event`;
  sim.sim.registerComponent({
    appId: app.appId,
    secret: app.appSecret ?? '',
    token: app.token ?? '',
    encodingAesKey: AES_KEY,
  });
  await sim.sim.pushTicket(app.appId, eventUrl());
  return {
    app,
    hubs,
    hub: first,
    eventUrl,
    async authorize(authorizer) {
      const pushed = await sim.sim.authorize(app.appId, authorizer, { url: eventUrl() });
      if (pushed.body !== 'success') throw new Error(`authorize: ${pushed.body}`);
    },
    async unauthorize(authorizer) {
      const pushed = await sim.sim.unauthorize(app.appId, authorizer, eventUrl());
      if (pushed.body !== 'success') throw new Error(`unauthorize: ${pushed.body}`);
    },
    async request(path, init = {}) {
      const { hub: i = 0, headers, ...rest } = init;
      const hub = hubs[i]?.hub ?? first;
      return hub.app.request(path, { ...rest, headers: { ...AUTH, ...(headers ?? {}) } });
    },
    async close() {
      for (const h of hubs) {
        await h.server.close();
        await h.hub.close();
      }
    },
  };
}
