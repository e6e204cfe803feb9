import type { Context } from 'hono';
import { Hono } from 'hono';
import { AliyunSmsSim, mountAliyunSmsSimulator } from './aliyun-sms';
import { CAPABILITY_ENDPOINTS, CapabilityBook } from './capabilities';
import type { SimClock } from './clock';
import { createSimClock } from './clock';
import type {
  Approval,
  AuthorizeOptions,
  AuthPush,
  ReleaseTestOptions,
  ReleaseTestReport,
  SentCustomMessage,
  SimComponentConfig,
  TicketPush,
} from './component';
import { ComponentBook } from './component';
import { createControlRoutes, simAppConfigSchema, simComponentConfigSchema } from './control';
import { CosSim, mountCosSimulator } from './cos';
import { DouyinSim, mountDouyinSimulator } from './douyin';
import { SIM_MARK_HEADER, unknownPathMessage, wxError } from './errors';
import type { CounterSnapshot, SimFault } from './faults';
import { CallCounters, FaultBook, isPayPath, waitFaultDelay } from './faults';
import { createFengniaoSimulator, type SimFengniao } from './fengniao';
import { GrantBook } from './grants';
import { mountOAuthSimulator, OAUTH_ENDPOINTS, resetOAuth } from './oauth';
import { createOpenDataRoutes } from './open-data';
import type { PaySimulator, SimPay } from './pay';
import { createPaySimulator } from './pay';
import { createShansongSimulator, type SimShansong } from './shansong';
import type { SimAppConfig } from './state';
import { TokenBook } from './state';
import type { WxContext, WxReply, WxRequest } from './wechat';
import { ENDPOINTS, errJson } from './wechat';
import { mountWecom, WecomBook } from './wecom';
import { createWecomSuiteControlRoutes, mountWecomSuites, WecomSuiteBook } from './wecom-suite';

/** Caller IP used when a request carries no `x-forwarded-for` (TEST-NET-3 address). */
export const DEFAULT_EGRESS_IP = '203.0.113.7';

/** A running WeChat API simulator: a Hono app plus programmatic control. */
export interface Simulator {
  /** Serves the WeChat endpoints, WeChat Pay's `/v3/` endpoints and the `/__sim/` control routes. */
  app: Hono;
  clock: SimClock;
  /** WeChat Pay (`api.mch.weixin.qq.com`): merchants, payments, notifications, keys. */
  pay: SimPay;
  /** Phone-number codes, subscriptions, subscribe messages sent, the limited-code quota. */
  capabilities: CapabilityBook;
  /** WeCom (`qyapi.weixin.qq.com`, under `/qyapi`): self-built apps, their tokens and callbacks. */
  wecom: WecomBook;
  /** Fengniao (`/fengniao`): apps, merchant authorization, callbacks, business calls. */
  fengniao: SimFengniao;
  /** Shansong (`/shansong`): apps, the authorization page, callbacks, API calls. */
  shansong: SimShansong;
  /** Douyin's APIs under `/douyin` (dev/simulator/douyin.ts): tokens, login codes, calls. */
  douyin: DouyinSim;
  /** Aliyun SMS under `/aliyun-sms` (dev/simulator/aliyun-sms.ts): keys, messages sent. */
  aliyunSms: AliyunSmsSim;
  /** Tencent COS uploads under `/cos` (dev/simulator/cos.ts): keys, objects stored. */
  cos: CosSim;
  /** WeCom third-party suites (`/qyapi/cgi-bin/service/…`): tickets, installs, corp tokens. */
  wecomSuites: WecomSuiteBook;
  /** Add an account, or update the secret/whitelist of an existing one (tokens are kept). */
  registerApp(cfg: SimAppConfig): void;
  /** Queue a fault (FIFO per path), consumed by matching calls. Throws on invalid input. */
  injectFault(f: SimFault): void;
  clearFaults(): void;
  /** Calls made to a path, optionally only those attributed to `appId` (the mchid on `/v3/`). */
  calls(path: string, appId?: string): number;
  /** Every counter, by path and by path+app. */
  counters(): CounterSnapshot;
  resetCounters(): void;
  /** True when `token` works now (sim clock), for any app, classic or stable, or an authorizer. */
  isTokenValid(token: string): boolean;
  /**
   * Kills a live token of any kind (app, component, authorizer) before its expiry: WeChat
   * answers 40001 for it from then on. False for a token never issued.
   */
  killToken(token: string): boolean;
  /**
   * A single-use js_code for jscode2session (or, for an authorizer of a component,
   * `/sns/component/jscode2session`), valid 5 min. Throws for an unknown app.
   */
  issueLoginCode(appId: string, openid: string, unionid?: string): string;
  /** Add or update a third-party platform (component); its ticket and tokens are kept. */
  registerComponent(cfg: SimComponentConfig): void;
  /**
   * Mint a fresh `component_verify_ticket` (the only one `api_component_token` then accepts) and
   * push it, encrypted, to `url` or the component's `eventUrl`.
   */
  pushTicket(appId: string, url?: string): Promise<TicketPush>;
  /** Push tickets to every component with an `eventUrl` last pushed 10+ sim minutes ago. */
  pushDueTickets(): Promise<number>;
  /**
   * An admin authorizes `authorizerAppId` on component `appId`: a single-use authorization code
   * for `api_query_auth`, pushed encrypted as an `authorized` event to `opts.url` or the
   * component's `eventUrl`. Throws for an unknown component.
   */
  authorize(appId: string, authorizerAppId: string, opts?: AuthorizeOptions): Promise<AuthPush>;
  /**
   * The admin on the next authorization page (`/cgi-bin/componentloginpage`,
   * `/safe/bindcomponent`) of component `appId` approves `approval.authorizerAppId`, pushed as
   * `approval` says (queued; without one, a fresh account approves). Throws for an unknown component.
   */
  approveNext(appId: string, approval: Approval): void;
  /** Waits for the `authorized` pushes the authorization pages started, and returns them. */
  pagePushes(): Promise<AuthPush[]>;
  /** An authorizer with live refresh token `refreshToken`, without push or code (bulk set-ups). */
  grantAuthorizer(appId: string, authorizerAppId: string, refreshToken: string): void;
  /** Stop the component's ticket pushes until the hub calls `api_start_push_ticket`. */
  stopTicketPushes(appId: string): void;
  /** The admin revokes the authorizer (its tokens stop working) and `unauthorized` is pushed. */
  unauthorize(appId: string, authorizerAppId: string, url?: string): Promise<AuthPush>;
  /**
   * Plays WeChat's full-network release test (全网发布接入检测) against the component's message
   * URL and reports each step; throws for an unknown component or a component without a URL.
   */
  releaseTest(appId: string, opts?: ReleaseTestOptions): Promise<ReleaseTestReport>;
  /** Customer-service messages sent with authorizer tokens, oldest first. */
  customMessages(authorizerAppId?: string): SentCustomMessage[];
  /**
   * Fault control: the authorizer's refresh tokens stop working (61023) and a new one replaces
   * them in `api_get_authorizer_list` (left out of its item with `listed: false`). Returns it.
   */
  invalidateRefreshToken(
    appId: string,
    authorizerAppId: string,
    opts?: { listed?: boolean },
  ): string;
  /**
   * Forget tokens, tickets, codes, force quotas, faults, counters, pay orders, refunds and queued
   * tampers. Apps, merchants, pay keys and the clock stay.
   */
  reset(): void;
}

/** Options of {@link createSimulator}. */
export interface SimulatorOptions {
  clock?: SimClock;
  apps?: SimAppConfig[];
  /** IP the simulator pretends the caller has; default 203.0.113.7. */
  egressIp?: string;
  /** Sends pay notifications and component ticket pushes; default the global fetch. */
  fetch?: typeof fetch;
}

interface Internals {
  ctx: WxContext;
  faults: FaultBook;
  counters: CallCounters;
  egressIp: string;
  pay: PaySimulator;
  /** `authorized` pushes started by the authorization pages, awaited by {@link Simulator.pagePushes}. */
  pagePushes: Promise<AuthPush>[];
  wecom: WecomBook;
  fengniao: ReturnType<typeof createFengniaoSimulator>;
  shansong: ReturnType<typeof createShansongSimulator>;
  wecomSuites: WecomSuiteBook;
}

/** Create a simulator with its own state; `opts.apps` are registered up front. */
export function createSimulator(opts: SimulatorOptions = {}): Simulator {
  const clock = opts.clock ?? createSimClock();
  const send = opts.fetch ?? ((input, init) => fetch(input, init));
  const ctx: WxContext = {
    apps: new Map(),
    tokens: new TokenBook(clock),
    grants: new GrantBook(clock),
    components: new ComponentBook(clock, send),
    clock,
    capabilities: new CapabilityBook(clock),
  };
  const faults = new FaultBook();
  const counters = new CallCounters();
  const inner: Internals = {
    ctx,
    faults,
    counters,
    egressIp: opts.egressIp ?? DEFAULT_EGRESS_IP,
    pay: createPaySimulator(clock, send),
    pagePushes: [],
    wecom: new WecomBook(clock, send),
    fengniao: createFengniaoSimulator(clock, { faults, counters }, send),
    shansong: createShansongSimulator(clock, { faults, counters }, send),
    wecomSuites: new WecomSuiteBook(clock, send),
  };
  const sim = buildSimulator(inner);
  for (const cfg of opts.apps ?? []) sim.registerApp(cfg);
  mountOAuthSimulator(sim.app, ctx, inner.counters);
  // Suites' paths first: the self-built apps' routes end in a catch-all of `/qyapi/…`.
  mountWecomSuites(sim.app, inner.wecomSuites, {
    counters: inner.counters,
    faults: inner.faults,
    fault: (f) => faultReply(f, ctx, { ip: inner.egressIp }),
    toResponse,
  });
  mountWecom(sim.app, {
    book: inner.wecom,
    ...inner,
    ipOf: (c) => callerIp(c.req.header('x-forwarded-for'), inner.egressIp),
  });
  sim.app.route('/__sim/fengniao', inner.fengniao.control);
  sim.app.route('/__sim/shansong', inner.shansong.control);
  sim.app.route('/__sim', createOpenDataRoutes(ctx));
  mountDouyinSimulator(sim.app, sim.douyin, inner.ctx.apps, inner.faults, inner.counters);
  mountAliyunSmsSimulator(sim.app, sim.aliyunSms, inner.faults, inner.counters);
  mountCosSimulator(sim.app, sim.cos, inner.faults, inner.counters);
  // Before the general control routes, whose catch-all answers unknown `/__sim/…` paths.
  sim.app.route('/__sim/wecom-suites', createWecomSuiteControlRoutes(inner.wecomSuites));
  sim.app.route('/__sim', createControlRoutes(sim));
  for (const path of AUTHORIZATION_PAGES) sim.app.get(path, (c) => authorizationPage(c, inner));
  sim.app.route('/fengniao', inner.fengniao.routes);
  sim.app.route('/shansong', inner.shansong.routes);
  sim.app.all('*', (c) => dispatch(c, inner));
  return sim;
}

function buildSimulator(inner: Internals): Simulator {
  const { ctx, faults, counters } = inner;
  const douyin = new DouyinSim(ctx.clock);
  const aliyunSms = new AliyunSmsSim(ctx.clock);
  const cos = new CosSim(ctx.clock);
  return {
    app: new Hono(),
    clock: ctx.clock,
    wecomSuites: inner.wecomSuites,
    pay: inner.pay.api,
    capabilities: ctx.capabilities,
    wecom: inner.wecom,
    fengniao: inner.fengniao.api,
    shansong: inner.shansong.api,
    douyin,
    aliyunSms,
    cos,
    registerApp(cfg) {
      const parsed = simAppConfigSchema.parse(cfg);
      ctx.apps.set(parsed.appId, { ...parsed, ipWhitelist: parsed.ipWhitelist?.slice() });
    },
    injectFault: (f) => faults.add(f),
    clearFaults: () => faults.clear(),
    calls: (path, appId) => counters.get(path, appId),
    counters: () => counters.snapshot(),
    resetCounters: () => counters.reset(),
    isTokenValid: (token) =>
      ctx.tokens.isValid(token) || ctx.components.isAuthorizerTokenValid(token),
    killToken: (token) => ctx.tokens.kill(token) || ctx.components.killToken(token),
    issueLoginCode(appId, openid, unionid) {
      if (!ctx.apps.has(appId) && !ctx.components.hasAuthorizer(appId))
        throw new Error(`unknown appId ${appId}: register it first`);
      if (openid === '') throw new Error('openid must not be empty');
      return ctx.grants.issueLoginCode(appId, openid, unionid);
    },
    registerComponent(cfg) {
      ctx.components.register(simComponentConfigSchema.parse(cfg));
    },
    pushTicket: (appId, url) => ctx.components.pushTicket(appId, url),
    pushDueTickets: async () =>
      (await ctx.components.pushDue()) + (await inner.wecomSuites.pushDue()),
    authorize: (appId, authorizerAppId, opts) =>
      ctx.components.authorize(appId, authorizerAppId, opts),
    approveNext: (appId, approval) => ctx.components.approveNext(appId, approval),
    async pagePushes() {
      const pending = inner.pagePushes.splice(0);
      return Promise.all(pending);
    },
    grantAuthorizer: (appId, authorizerAppId, refreshToken) => {
      ctx.components.grantWithRefreshToken(appId, authorizerAppId, refreshToken);
    },
    stopTicketPushes: (appId) => ctx.components.stopPushes(appId),
    unauthorize: (appId, authorizerAppId, url) =>
      ctx.components.unauthorize(appId, authorizerAppId, url),
    releaseTest: (appId, opts) => ctx.components.releaseTest(appId, opts),
    customMessages: (authorizerAppId) => ctx.components.customMessages(authorizerAppId),
    invalidateRefreshToken: (appId, authorizerAppId, opts) =>
      ctx.components.invalidateRefreshToken(appId, authorizerAppId, opts),
    reset() {
      ctx.tokens.reset();
      ctx.components.reset();
      inner.wecomSuites.reset();
      ctx.grants.reset();
      resetOAuth(ctx);
      ctx.capabilities.reset();
      faults.clear();
      counters.reset();
      inner.pay.reset();
      inner.wecom.reset();
      inner.fengniao.api.reset();
      inner.shansong.api.reset();
      douyin.reset();
      aliyunSms.reset();
      cos.reset();
    },
  };
}

/**
 * WeChat's authorization pages on mp.weixin.qq.com, PC and in the WeChat client
 * (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Authorization_Process_Technical_Description.html).
 */
export const AUTHORIZATION_PAGES = ['/cgi-bin/componentloginpage', '/safe/bindcomponent'];

/** An authorization page: the admin approves at once (302 to `redirect_uri`), or an HTML refusal. */
function authorizationPage(c: Context, inner: Internals): Response {
  const query = new URL(c.req.url).searchParams;
  const appId = query.get('component_appid') ?? undefined;
  const known = appId !== undefined && inner.ctx.components.has(appId);
  inner.counters.record(c.req.path, known ? appId : undefined);
  if (c.req.path === '/safe/bindcomponent' && query.get('action') !== 'bindcomponent') {
    return c.html(page('action must be bindcomponent'), 400);
  }
  const r = inner.ctx.components.authorizationPage(query);
  if (r.kind === 'refused') return c.html(page(r.message), r.status as 400);
  inner.pagePushes.push(r.pushed);
  return c.redirect(r.location, 302);
}

const page = (message: string) =>
  `<!doctype html><meta charset="utf-8"><title>授权失败</title><p>${message}</p>\n`;

/** The IP WeChat would see: first `x-forwarded-for` entry, else the configured egress IP. */
export function callerIp(forwardedFor: string | undefined, egressIp: string): string {
  const first = forwardedFor?.split(',')[0]?.trim();
  return first ? first : egressIp;
}

async function dispatch(c: Context, inner: Internals): Promise<Response> {
  if (isPayPath(c.req.path)) return inner.pay.handle(c.req.raw, inner);
  const { ctx } = inner;
  const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD';
  const bytes = hasBody ? new Uint8Array(await c.req.arrayBuffer()) : new Uint8Array();
  const req: WxRequest = {
    method: c.req.method,
    path: c.req.path,
    query: new URL(c.req.url).searchParams,
    body: new TextDecoder().decode(bytes),
    bytes,
    ip: callerIp(c.req.header('x-forwarded-for'), inner.egressIp),
  };
  const endpoint =
    ENDPOINTS[req.path] ?? OAUTH_ENDPOINTS[req.path] ?? CAPABILITY_ENDPOINTS[req.path];
  const appId = endpoint?.appIdOf(req, ctx);
  const known =
    appId !== undefined &&
    (ctx.apps.has(appId) || ctx.components.has(appId) || ctx.components.hasAuthorizer(appId));
  inner.counters.record(req.path, known ? appId : undefined);
  const fault = inner.faults.take(req.path, appId);
  const faulted = fault ? await faultReply(fault, ctx, req) : undefined;
  const shape = (res: Response) => (fault ? shapeResponse(res, fault) : res);
  if (faulted) return shape(toResponse(faulted));
  if (!endpoint) {
    const body = wxError(-1, ctx.clock.now(), { errmsg: unknownPathMessage(req.path) });
    const res = toResponse({ kind: 'json', status: 404, body });
    res.headers.set(SIM_MARK_HEADER, 'unknown-path');
    return shape(res);
  }
  if (req.method !== endpoint.method) {
    return shape(toResponse(errJson(ctx, req, endpoint.method === 'POST' ? 43002 : 43001)));
  }
  return shape(toResponse(endpoint.handle(req, ctx)));
}

const FILL_CHUNK = 64 * 1024;

/** `n` bytes of a JSON object (`{"pad":"xxx…"}`), made chunk by chunk as they are read. */
function filler(n: number): ReadableStream<Uint8Array> {
  const head = new TextEncoder().encode('{"pad":"');
  const tail = new TextEncoder().encode('"}');
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= n) {
        controller.close();
        return;
      }
      const size = Math.min(FILL_CHUNK, n - sent);
      const chunk = new Uint8Array(size).fill(0x78);
      for (let i = 0; i < size; i += 1) {
        const at = sent + i;
        if (at < head.length) chunk[i] = head[at] ?? 0x78;
        else if (at >= n - tail.length) chunk[i] = tail[at - (n - tail.length)] ?? 0x78;
      }
      sent += size;
      controller.enqueue(chunk);
    },
  });
}

/** A body that sends `bytes` and then never ends (until the caller cancels it). */
function stalled(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes);
    },
  });
}

/** Apply a fault's transport shaping: redirect, body size, stalled body, extra headers. */
async function shapeResponse(res: Response, f: SimFault): Promise<Response> {
  if (
    f.redirect === undefined &&
    f.headers === undefined &&
    f.bodyBytes === undefined &&
    f.stallAfterBytes === undefined
  ) {
    return res;
  }
  const headers = new Headers(res.headers);
  let status = res.status;
  let body: ReadableStream<Uint8Array> | Uint8Array | null = new Uint8Array(
    await res.arrayBuffer(),
  );
  if (f.redirect !== undefined) {
    status = 302;
    body = null;
    headers.delete('content-type');
    headers.set('location', f.redirect);
  } else if (f.bodyBytes !== undefined) {
    body = filler(f.bodyBytes);
    headers.set('content-type', f.contentType ?? 'application/json; encoding=utf-8');
    if (f.chunked !== true) headers.set('content-length', String(f.bodyBytes));
  }
  if (f.stallAfterBytes !== undefined && body instanceof Uint8Array) {
    body = stalled(body.subarray(0, f.stallAfterBytes));
    headers.delete('content-length');
  }
  for (const [k, v] of Object.entries(f.headers ?? {})) headers.append(k, v);
  return new Response(body, { status, headers });
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** Apply a fault: wait `delayMs`, then answer the errcode/status, or undefined to go on normally. */
async function faultReply(
  f: SimFault,
  ctx: WxContext,
  req: Pick<WxRequest, 'ip'>,
): Promise<WxReply | undefined> {
  await waitFaultDelay(f);
  if (f.errcode !== undefined) {
    const body = wxError(f.errcode, ctx.clock.now(), { errmsg: f.errmsg, ip: req.ip });
    return { kind: 'json', status: f.status ?? 200, body };
  }
  if (f.status === undefined) return undefined;
  const title = `${f.status} ${STATUS_TEXT[f.status] ?? 'Error'}`;
  const html = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
  return { kind: 'text', status: f.status, body: html, contentType: 'text/html' };
}

/** Turn a {@link WxReply} into a fetch Response with WeChat's content types. */
export function toResponse(reply: WxReply): Response {
  if (reply.kind === 'json') {
    return new Response(JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json; encoding=utf-8' },
    });
  }
  const headers = { 'content-type': reply.contentType };
  return new Response(reply.body, { status: reply.status, headers });
}
