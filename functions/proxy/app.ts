import { type Context, Hono } from 'hono';
import { authorizerAccessToken } from '../../shared/component/authorizers';
import { componentAccessToken } from '../../shared/component/component';
import {
  invalidateAuthorizerToken,
  invalidateComponentToken,
} from '../../shared/component/credentials';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import { hangUpOf } from '../../shared/http/headers';
import { mount } from '../../shared/http/routes';
import type { Deps } from '../../shared/platform/deps';
import {
  type InvalidateResult,
  invalidateServedToken,
  loadWecom,
  servedAccessToken,
} from '../../shared/tokens/app-tokens';
import type { ServedCredential } from '../../shared/tokens/manager';
import { type ProxyDeps, proxyWechat } from '../../shared/wechat/proxy';
import { assertNotMinting, proxySegments, upstreamPath } from '../../shared/wechat/proxy-path';
import * as api from './api';

/** Whose token a proxy route sends, and how that token is fetched and reported dead. */
export interface TokenSource {
  /** Names the caller in a log line (no token). */
  label: Record<string, string>;
  token(): Promise<ServedCredential>;
  invalidate(dead: string): Promise<InvalidateResult>;
  tokenParams?: readonly string[];
  /** Routes to name, instead of the defaults, when a minting path is refused. */
  instead?: Readonly<Record<string, string>>;
  /** Another platform's API and token rules (Douyin, WeCom); WeChat's by default. */
  upstream?: Pick<
    ProxyDeps,
    'baseUrl' | 'platform' | 'tokenHeader' | 'bodyWithToken' | 'isDeadToken'
  >;
}

/**
 * One proxied call: the path checked (never one that mints a credential the hub holds), the
 * token added, WeChat's answer streamed back, one retry after a dead-token errcode.
 */
export async function proxyWith(
  deps: Deps,
  c: Context<HubEnv>,
  name: string,
  source: TokenSource,
  path: string,
): Promise<Response> {
  // Both parameters come decoded from the route; the raw URL is never sliced.
  const segments = proxySegments(path);
  assertNotMinting(segments, name, source.instead);
  const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD';
  const requestId = c.get('requestId');
  const hangUp = hangUpOf(c);
  return proxyWechat(
    {
      telemetry: deps.telemetry,
      baseUrl: deps.wechat.baseUrl,
      ...source.upstream,
      fetch: deps.fetch,
      timeoutMs: deps.config.proxyTimeoutMs,
      maxBytes: deps.config.proxyMaxBytes,
      token: async () => (await source.token()).value,
      invalidate: async (dead) => {
        const { token, heldBack } = await source.invalidate(dead);
        return heldBack !== undefined && token.value === dead ? undefined : token.value;
      },
      onCutOff: (reason) =>
        deps.log.warn(
          { requestId, ...source.label, path: segments.join('/'), reason },
          'proxy: answer cut off',
        ),
      ...(source.tokenParams === undefined ? {} : { tokenParams: source.tokenParams }),
      ...(hangUp === undefined ? {} : { hangUp }),
    },
    {
      method: c.req.method,
      path: upstreamPath(segments),
      search: new URL(c.req.url).searchParams,
      body: hasBody ? await c.req.arrayBuffer() : undefined,
      contentType: c.req.header('content-type'),
    },
  );
}

/**
 * Douyin's server APIs (`DOUYIN_API_BASE`): the token goes in the `access-token` header, the
 * `access_token` query parameter and a JSON body's `access_token`; its dead-token codes trigger
 * the one retry. Loaded on the first Douyin call only (LAZY_FILES).
 */
async function douyinUpstream(deps: Deps): Promise<TokenSource['upstream']> {
  const douyin = await import('../../shared/douyin');
  return {
    baseUrl: deps.douyin.baseUrl,
    platform: 'douyin',
    tokenHeader: douyin.DOUYIN_TOKEN_HEADER,
    bodyWithToken: douyin.douyinBodyWithToken,
    isDeadToken: douyin.isDeadDouyinToken,
  };
}

/**
 * A WeCom app's calls: to `WECOM_API_BASE`, retried once on WeCom's dead-token errcodes (its
 * 40001 is a wrong secret, not a dead token). Loaded on the first WeCom call only (LAZY_FILES).
 */
export async function wecomUpstream(deps: Pick<Deps, 'wecom'>): Promise<TokenSource['upstream']> {
  const { WECOM_TOKEN_ERRCODES } = await loadWecom();
  return {
    baseUrl: deps.wecom.baseUrl,
    platform: 'wecom',
    isDeadToken: (body) => {
      const code =
        typeof body === 'object' && body !== null
          ? (body as { errcode?: unknown }).errcode
          : undefined;
      return typeof code === 'number' && WECOM_TOKEN_ERRCODES.has(code);
    },
  };
}

/**
 * Component APIs take the component token as `component_access_token`; newer pages of WeChat's
 * docs name the same parameter `access_token`. Both are sent.
 */
const COMPONENT_TOKEN_PARAMS = ['component_access_token', 'access_token'] as const;

/** Routes of the proxy function: `ANY /v1/proxy/{app}/{path…}` with the token injected. */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  mount(r, api.appProxy, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    const source: TokenSource = {
      label: { app: app.name },
      token: () => servedAccessToken(deps, app),
      invalidate: (dead) => invalidateServedToken(deps, app, dead),
      ...(app.kind === 'douyin' ? { upstream: await douyinUpstream(deps) } : {}),
      ...(app.kind === 'wecom' ? { upstream: await wecomUpstream(deps) } : {}),
    };
    return proxyWith(deps, c, app.name, source, params.path);
  });
  return r;
}

/**
 * The third-party platform's proxies, `ANY /v1/components/{app}/proxy/{path…}` (component token)
 * and `ANY /v1/components/{app}/authorizers/{appid}/proxy/{path…}` (the authorizer's token).
 * Mounted by the token function: on SCF the custom domain routes by path prefix, and every
 * `/v1/components/…` path reaches that function.
 */
export function mountComponentProxies(r: Hono<HubEnv>, deps: Deps): void {
  mount(r, api.componentProxy, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    const source: TokenSource = {
      label: { app: app.name },
      token: () => componentAccessToken(deps, app),
      invalidate: (dead) => invalidateComponentToken(deps, app, dead),
      tokenParams: COMPONENT_TOKEN_PARAMS,
    };
    return proxyWith(deps, c, app.name, source, params.path);
  });

  mount(r, api.authorizerProxy, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    const appid = params.appid;
    const routes = `/v1/components/${app.name}/authorizers/${appid}`;
    // An authorizer's token and tickets are the hub's to mint, as an app's are.
    const token = `GET ${routes}/token`;
    const source: TokenSource = {
      label: { app: app.name, authorizer: appid },
      token: () => authorizerAccessToken(deps, app, appid),
      invalidate: (dead) => invalidateAuthorizerToken(deps, app, appid, dead),
      instead: {
        'cgi-bin/token': token,
        'cgi-bin/stable_token': token,
        'cgi-bin/ticket/getticket': `GET ${routes}/ticket?type=jsapi (or wx_card)`,
      },
    };
    return proxyWith(deps, c, app.name, source, params.path);
  });
}

/** The proxy function as a standalone app. */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
