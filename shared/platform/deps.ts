import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AppRegistry, MerchantRegistry } from '../apps/registry';
import { createAppRegistry, createMerchantRegistry } from '../apps/registry';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import type { Config } from '../config';
import type { PlatformHttp } from '../delivery/http';
import type { Logger } from '../http/log';
import { createOps, type OpsEndpoints } from '../metrics/ops';
import { createTelemetry, type Telemetry } from '../metrics/telemetry';
import type { Store } from '../store';
import { TICKET_TYPES, ticketKind } from '../tokens/app-tokens';
import type { TokenManager, TokenOptions } from '../tokens/manager';
import { createTokenManager } from '../tokens/manager';
import type { WechatHttp } from '../wechat/http';

/** Everything a function's `createApp(deps)` closes over. Built once per process. */
export interface Deps {
  config: Config;
  store: Store;
  clock: Clock;
  fetch: typeof fetch;
  log: Logger;
  /** Distinguishes this process in lease owners and logs. */
  instanceId: string;
  apps: AppRegistry;
  merchants: MerchantRegistry;
  tokens: TokenManager;
  wechat: WechatHttp;
  /** WeChat Pay API v3 (`WECHATPAY_API_BASE`). */
  pay: WechatHttp;
  /** WeCom's API (`WECOM_API_BASE`): `kind: wecom` apps. */
  wecom: WechatHttp;
  /** The delivery platforms' open APIs (`FENGNIAO_API_BASE`, `SHANSONG_API_BASE`). */
  fengniao: PlatformHttp;
  shansong: PlatformHttp;
  /** Douyin mini-program server APIs (`DOUYIN_API_BASE`). */
  douyin: WechatHttp;
  /** Metrics recorded by this process, and traces when configured. */
  telemetry: Telemetry;
  /** `GET /metrics` and `GET /healthz?detail=1`. */
  ops: OpsEndpoints;
  /** Set by the SCF handler: see `BaseAppDeps.coldStartRouting` (shared/http/app.ts). */
  coldStartRouting?: boolean;
}

export interface DepsParts {
  config: Config;
  store: Store;
  log: Logger;
  clock?: Clock;
  fetch?: typeof fetch;
  instanceId?: string;
  tokenOptions?: Partial<TokenOptions>;
  wechatTimeoutMs?: number;
}

/** Assembles {@link Deps}; tests pass their own clock, fetch and token options. */
export function createDeps(parts: DepsParts): Deps {
  const clock = parts.clock ?? systemClock;
  const instanceId =
    parts.instanceId ??
    `${hostname().slice(0, 40)}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const f = parts.fetch ?? fetch;
  const telemetry = createTelemetry(parts.config.tracing);
  const tokens = createTokenManager({
    store: parts.store,
    clock,
    log: parts.log,
    instanceId,
    telemetry,
    ...(parts.tokenOptions === undefined ? {} : { options: parts.tokenOptions }),
    // Tickets were fetched with the access token: drop them when it is replaced.
    onSaved: async (k) => {
      if (k.kind !== 'access_token') return;
      for (const type of TICKET_TYPES) {
        const ticket = { owner: k.owner, kind: ticketKind(type) };
        await parts.store.credentials.clearValue(ticket, clock.now());
        tokens.forget(ticket);
      }
    },
  });
  const deps: Deps = {
    config: parts.config,
    store: parts.store,
    clock,
    fetch: f,
    log: parts.log,
    instanceId,
    apps: createAppRegistry(parts.store, clock),
    merchants: createMerchantRegistry(parts.store, clock),
    tokens,
    wechat: {
      baseUrl: parts.config.wechatApiBase,
      fetch: f,
      timeoutMs: parts.wechatTimeoutMs ?? 5_000,
      telemetry,
    },
    pay: {
      baseUrl: parts.config.wechatPayApiBase,
      fetch: f,
      timeoutMs: parts.wechatTimeoutMs ?? 10_000,
      telemetry,
      platform: 'wechatpay',
    },
    wecom: {
      baseUrl: parts.config.wecomApiBase,
      fetch: f,
      timeoutMs: parts.wechatTimeoutMs ?? 5_000,
      telemetry,
      platform: 'wecom',
    },
    fengniao: {
      platform: 'Fengniao',
      baseUrl: parts.config.fengniaoApiBase,
      fetch: f,
      timeoutMs: parts.wechatTimeoutMs ?? 10_000,
      telemetry,
    },
    shansong: {
      platform: 'Shansong',
      baseUrl: parts.config.shansongApiBase,
      fetch: f,
      timeoutMs: parts.wechatTimeoutMs ?? 10_000,
      telemetry,
    },
    douyin: {
      baseUrl: parts.config.douyinApiBase,
      fetch: f,
      timeoutMs: parts.wechatTimeoutMs ?? 5_000,
      telemetry,
      platform: 'douyin',
    },
    telemetry,
    ops: createOps(() => deps),
  };
  return deps;
}
