import createOpenApiClient, { type Client } from 'openapi-fetch';
import { errorFromAnswer, hubRefusal, unreachable } from './errors.js';
import type { paths } from './schema.js';

type Json<P extends keyof paths, M extends 'get' | 'post'> = paths[P][M] extends {
  responses: { 200: { content: { 'application/json': infer T } } };
}
  ? T
  : never;

/** `{appId, accessToken, expiresAt}` of an app, a component or an authorizer. */
export type AccessToken = Json<'/v1/apps/{app}/token', 'get'>;
/** As {@link AccessToken}; `error` (`RATE_LIMITED`) when a refresh budget held the refresh back. */
export type InvalidatedToken = Json<'/v1/apps/{app}/token/invalidate', 'post'>;
/** `{appId, timestamp, nonceStr, signature}` for `wx.config`. */
export type JssdkConfig = Json<'/v1/apps/{app}/jssdk-config', 'get'>;

/** WeChat's errcodes for an access token it no longer takes (invalid, malformed, expired). */
export const DEAD_TOKEN_ERRCODES: readonly number[] = [40001, 40014, 42001];

export interface WxhubClientOptions {
  /** The hub's origin (and path prefix, if any), e.g. `http://wxhub.internal:3000`. */
  baseUrl: string;
  /**
   * A key of the hub's `WXHUB_API_KEYS`, sent as `Authorization: Bearer …`. Leave it out only
   * where the hub trusts `x-wx-source` (CloudRun, public access off).
   */
  apiKey?: string;
  /** The fetch requests go through (a global `fetch` by default). */
  fetch?: (request: Request) => Promise<Response>;
  /** A cached token is not served in its last this many ms before `expiresAt`; default 60 s. */
  tokenMarginMs?: number;
  /** A cached token is served for at most this many ms after it was fetched; default 5 min. */
  tokenMaxAgeMs?: number;
  /** Milliseconds since the epoch, for the cache; `Date.now` by default. */
  now?: () => number;
}

interface Cached {
  token: AccessToken;
  freshUntil: number;
}

/** A calling service's view of the hub: the typed routes, and helpers around its tokens. */
export interface WxhubClient {
  /** Every route of the hub's OpenAPI document, typed (openapi-fetch), with the key set. */
  readonly api: Client<paths>;
  /** The app's access token, from a short local cache; concurrent callers share one request. */
  token(app: string): Promise<AccessToken>;
  /**
   * Reports `accessToken` dead: the hub refreshes it only if it is still the current one
   * (compare-and-refresh) and answers the current token; the local cache is dropped.
   */
  invalidate(app: string, accessToken: string): Promise<InvalidatedToken>;
  /**
   * Calls `fn` with the app's token; when its WeChat answer (a parsed body or a `Response`) has
   * errcode 40001, 40014 or 42001, invalidates that token and calls `fn` once more with the new one.
   */
  withToken<T>(app: string, fn: (accessToken: string) => Promise<T>): Promise<T>;
  /** `wx.config` fields for the page at `url` (http or https), signed with the jsapi ticket. */
  jssdkConfig(app: string, url: string): Promise<JssdkConfig>;
  /**
   * `{method} WECHAT_API_BASE/{path}` through the hub, which adds the access token (and retries
   * once on a dead token): WeChat's answer as it came. Throws {@link WxhubError} when the hub
   * itself refuses (e.g. 403 for a path that mints a credential, 504 WeChat too slow).
   */
  proxy(app: string, path: string, init?: RequestInit): Promise<Response>;
  /** A third-party platform's `component_access_token`, cached as {@link token}. */
  componentToken(component: string): Promise<AccessToken>;
  /** An authorizer's access token (of component `component`), cached as {@link token}. */
  authorizerToken(component: string, appId: string): Promise<AccessToken>;
  /** As {@link invalidate}, for an authorizer's token. */
  invalidateAuthorizer(
    component: string,
    appId: string,
    accessToken: string,
  ): Promise<InvalidatedToken>;
  /** As {@link withToken}, with an authorizer's token. */
  withAuthorizerToken<T>(
    component: string,
    appId: string,
    fn: (accessToken: string) => Promise<T>,
  ): Promise<T>;
  /** As {@link proxy}, with an authorizer's token. */
  authorizerProxy(
    component: string,
    appId: string,
    path: string,
    init?: RequestInit,
  ): Promise<Response>;
}

/**
 * Duck-typed: `instanceof Response` fails across implementations (@hono/node-server, for one,
 * replaces the global `Response` while `fetch` still answers undici's).
 */
function isResponse(x: unknown): x is Response {
  return (
    typeof x === 'object' &&
    x !== null &&
    'headers' in x &&
    typeof x.headers === 'object' &&
    x.headers !== null &&
    'get' in x.headers &&
    typeof x.headers.get === 'function' &&
    'clone' in x &&
    typeof x.clone === 'function'
  );
}

/** True when `answer` (a WeChat JSON body, or a `Response` carrying one) says its token is dead. */
export async function hasDeadTokenErrcode(answer: unknown): Promise<boolean> {
  let body: unknown = answer;
  if (isResponse(answer)) {
    const type: string = answer.headers.get('content-type') ?? '';
    // WeChat answers its errors as JSON, sometimes labelled text/plain.
    if (!type.includes('json') && !type.includes('text/plain')) return false;
    try {
      body = await answer.clone().json();
    } catch {
      return false;
    }
  }
  if (typeof body !== 'object' || body === null || !('errcode' in body)) return false;
  return typeof body.errcode === 'number' && DEAD_TOKEN_ERRCODES.includes(body.errcode);
}

/** The typed client and the token helpers, over `fetch` with the hub's bearer key. */
export function createClient(opts: WxhubClientOptions): WxhubClient {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const send = opts.fetch ?? ((request: Request) => fetch(request));
  const now = opts.now ?? Date.now;
  const marginMs = opts.tokenMarginMs ?? 60_000;
  const maxAgeMs = opts.tokenMaxAgeMs ?? 300_000;
  const auth: Record<string, string> =
    opts.apiKey === undefined ? {} : { authorization: `Bearer ${opts.apiKey}` };
  const api = createOpenApiClient<paths>({ baseUrl, fetch: send, headers: auth });

  /** Awaits an openapi-fetch call: its data, or a WxhubError. */
  async function answer<T>(
    call: Promise<{ data?: T; error?: unknown; response: Response }>,
  ): Promise<T> {
    let got: { data?: T; error?: unknown; response: Response };
    try {
      got = await call;
    } catch (err) {
      throw unreachable(baseUrl, err);
    }
    if (!got.response.ok || got.data === undefined) throw errorFromAnswer(got.response, got.error);
    return got.data;
  }

  // The cache: by kind and name (never a token), with one request in flight per key. A key's
  // generation moves on each invalidation, so a fetch started before it is not cached after it.
  const cache = new Map<string, Cached>();
  const inflight = new Map<string, Promise<AccessToken>>();
  const generation = new Map<string, number>();

  function remember(key: string, token: AccessToken): void {
    const expiresAt = Date.parse(token.expiresAt);
    const fetchedAt = now();
    cache.set(key, { token, freshUntil: Math.min(expiresAt - marginMs, fetchedAt + maxAgeMs) });
  }

  function cached(key: string, load: () => Promise<AccessToken>): Promise<AccessToken> {
    const hit = cache.get(key);
    if (hit !== undefined && now() < hit.freshUntil) return Promise.resolve(hit.token);
    const pending = inflight.get(key);
    if (pending !== undefined) return pending;
    const started = generation.get(key) ?? 0;
    const p = load()
      .then((token) => {
        if ((generation.get(key) ?? 0) === started) remember(key, token);
        return token;
      })
      .finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  }

  // Concurrent reports of one dead token share one request (keyed by name, never by token).
  const invalidating = new Map<string, { dead: string; answer: Promise<InvalidatedToken> }>();

  function invalidated(
    key: string,
    accessToken: string,
    call: () => Promise<InvalidatedToken>,
  ): Promise<InvalidatedToken> {
    const cur = cache.get(key);
    if (cur !== undefined && cur.token.accessToken === accessToken) cache.delete(key);
    generation.set(key, (generation.get(key) ?? 0) + 1);
    const pending = invalidating.get(key);
    if (pending !== undefined && pending.dead === accessToken) return pending.answer;
    const answer = call()
      .then((fresh) => {
        // A new token is the current one: cached. The same one (refresh held back) is not.
        if (fresh.accessToken !== accessToken) remember(key, fresh);
        return fresh;
      })
      .finally(() => {
        if (invalidating.get(key)?.answer === answer) invalidating.delete(key);
      });
    invalidating.set(key, { dead: accessToken, answer });
    return answer;
  }

  async function withRetry<T>(
    get: () => Promise<AccessToken>,
    invalidate: (accessToken: string) => Promise<InvalidatedToken>,
    fn: (accessToken: string) => Promise<T>,
  ): Promise<T> {
    const { accessToken } = await get();
    const first = await fn(accessToken);
    if (!(await hasDeadTokenErrcode(first))) return first;
    const fresh = await invalidate(accessToken);
    return fn(fresh.accessToken);
  }

  async function proxyAt(prefix: string, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(auth)) headers.set(name, value);
    const request = new Request(`${baseUrl}${prefix}/${path.replace(/^\/+/, '')}`, {
      ...init,
      headers,
    });
    let response: Response;
    try {
      response = await send(request);
    } catch (err) {
      throw unreachable(baseUrl, err);
    }
    const refusal = await hubRefusal(response);
    if (refusal !== undefined) throw refusal;
    return response;
  }

  const app = (name: string) => ({ params: { path: { app: name } } });
  const authorizer = (component: string, appId: string) => ({
    params: { path: { app: component, appid: appId } },
  });
  const appKey = (name: string) => `app\n${name}`;
  const authorizerKey = (component: string, appId: string) => `authorizer\n${component}\n${appId}`;

  const client: WxhubClient = {
    api,
    token: (name) => cached(appKey(name), () => answer(api.GET('/v1/apps/{app}/token', app(name)))),
    invalidate: (name, accessToken) =>
      invalidated(appKey(name), accessToken, () =>
        answer(
          api.POST('/v1/apps/{app}/token/invalidate', { ...app(name), body: { accessToken } }),
        ),
      ),
    withToken: (name, fn) =>
      withRetry(
        () => client.token(name),
        (t) => client.invalidate(name, t),
        fn,
      ),
    jssdkConfig: (name, url) =>
      answer(
        api.GET('/v1/apps/{app}/jssdk-config', {
          params: { path: { app: name }, query: { url } },
        }),
      ),
    proxy: (name, path, init) => proxyAt(`/v1/proxy/${encodeURIComponent(name)}`, path, init),
    componentToken: (component) =>
      cached(`component\n${component}`, () =>
        answer(api.GET('/v1/components/{app}/token', app(component))),
      ),
    authorizerToken: (component, appId) =>
      cached(authorizerKey(component, appId), () =>
        answer(
          api.GET('/v1/components/{app}/authorizers/{appid}/token', authorizer(component, appId)),
        ),
      ),
    invalidateAuthorizer: (component, appId, accessToken) =>
      invalidated(authorizerKey(component, appId), accessToken, () =>
        answer(
          api.POST('/v1/components/{app}/authorizers/{appid}/token/invalidate', {
            ...authorizer(component, appId),
            body: { accessToken },
          }),
        ),
      ),
    withAuthorizerToken: (component, appId, fn) =>
      withRetry(
        () => client.authorizerToken(component, appId),
        (t) => client.invalidateAuthorizer(component, appId, t),
        fn,
      ),
    authorizerProxy: (component, appId, path, init) =>
      proxyAt(
        `/v1/components/${encodeURIComponent(component)}/authorizers/${encodeURIComponent(appId)}/proxy`,
        path,
        init,
      ),
  };
  return client;
}
