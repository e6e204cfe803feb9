import type { Hono } from 'hono';
import { type RunningSimulator, startSimulator } from '../dev/simulator';
import type { AppConfig } from '../shared/config';
import { parseConfig } from '../shared/config';
import type { HubEnv } from '../shared/http/app';
import { createLogger, type Logger } from '../shared/http/log';
import type { Deps } from '../shared/platform/deps';
import { createDeps } from '../shared/platform/deps';
import type { OpenedStore, TestTarget } from '../shared/store/testing';
import { openTestStore, uniqueName } from '../shared/store/testing';
import type { TokenOptions } from '../shared/tokens/manager';
import { createHubApp } from './index';

export const TEST_API_KEY = 'test-key-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TEST_API_KEY}` };

export interface TestHub {
  deps: Deps;
  /** The hub's store and database handle (e.g. for rawTableText). */
  opened: OpenedStore;
  app: Hono<HubEnv>;
  sim: RunningSimulator;
  close(): Promise<void>;
}

export interface TestHubOptions {
  apps?: AppConfig[];
  env?: Record<string, string>;
  /** Share one simulator between hubs (several instances of one deployment). */
  sim?: RunningSimulator;
  tokenOptions?: Partial<TokenOptions>;
  instanceId?: string;
  /** The fetch WeChat is called with (e.g. one that counts calls); the global one by default. */
  fetch?: typeof fetch;
  wechatTimeoutMs?: number;
  /** Secret-at-rest keys of this hub's store (the first seals); the shared test key by default. */
  secretKeys?: Buffer[];
  /** SQLite: longest wait for another connection's write lock before a 503. */
  busyBudgetMs?: number;
  /** MySQL pool size (4 by default; a bench uses the deployed default, 10). */
  poolSize?: number;
  /** The hub's logger (silent by default), e.g. one that collects lines. */
  log?: Logger;
}

/** A test app config with a unique name, registered in the simulator by {@link createTestHub}. */
export function testApp(over: Partial<AppConfig> = {}): AppConfig {
  const name = uniqueName('app');
  return {
    name,
    kind: 'official',
    appId: `wx${name.replace(/[^a-z0-9]/g, '').slice(-16)}`,
    appSecret: `secret-${name}`,
    tokenMode: 'classic',
    forward: [],
    ...over,
  };
}

/**
 * A hub over a fresh store on `target`, talking to the simulator over real HTTP and sharing its
 * clock, with `apps` synced and registered in the simulator.
 */
export async function createTestHub(
  target: TestTarget,
  opts: TestHubOptions = {},
): Promise<TestHub> {
  const sim = opts.sim ?? (await startSimulator());
  const opened = await openTestStore(target, {
    poolSize: opts.poolSize ?? 4,
    ...(opts.secretKeys === undefined ? {} : { secretKeys: opts.secretKeys }),
    ...(opts.busyBudgetMs === undefined ? {} : { busyBudgetMs: opts.busyBudgetMs }),
  });
  const config = parseConfig({
    WECHAT_API_BASE: sim.url,
    WECHATPAY_API_BASE: sim.url,
    WECOM_API_BASE: `${sim.url}/qyapi`,
    WXHUB_API_KEYS: TEST_API_KEY,
    LOG_LEVEL: 'silent',
    // Hubs of one test file share its database and their clocks may differ: a refresh pass of one
    // hub must not purge another hub's messages. Retention is tested with its own cut-off.
    WXHUB_MESSAGE_RETENTION_DAYS: '0',
    ...opts.env,
  });
  const store = opened.store;
  const apps = opts.apps ?? [];
  for (const a of apps)
    if (a.appSecret) sim.sim.registerApp({ appId: a.appId, secret: a.appSecret });
  // Upsert only: hubs of other tests share the database, and a full sync would disable their apps.
  for (const a of apps) await store.apps.upsert(a, 'file', sim.sim.clock.now());
  const deps = createDeps({
    config,
    store,
    log: opts.log ?? createLogger('silent'),
    clock: sim.sim.clock,
    ...(opts.instanceId === undefined ? {} : { instanceId: opts.instanceId }),
    ...(opts.tokenOptions === undefined ? {} : { tokenOptions: opts.tokenOptions }),
    ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
    ...(opts.wechatTimeoutMs === undefined ? {} : { wechatTimeoutMs: opts.wechatTimeoutMs }),
  });
  return {
    deps,
    opened,
    app: createHubApp(deps),
    sim,
    async close() {
      await store.close();
      if (opts.sim === undefined) await sim.close();
    },
  };
}
