import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { matchedRoutes } from 'hono/route';
import { TrieRouter } from 'hono/router/trie-router';
import { createKeyChecker } from '../admin/api-keys';
import { type Clock, systemClock } from '../clock';
import type { OpsEndpoints } from '../metrics/ops';
import type { Telemetry } from '../metrics/telemetry';
import type { AdminRepo, Store } from '../store';
import { transportErrorCode, WechatTransportError } from '../wechat/http';
import {
  createInternalAuth,
  createKeyMatcher,
  type InternalAuthOptions,
  isInternalPath,
} from './auth';
import { leaveBodyUnread } from './body';
import { AppError, CODE_TO_STATUS, type ErrorCode, errorBody, WechatApiError } from './errors';
import { type Exposure, isExposed } from './exposure';
import { requestHeader, setResponseHeader } from './headers';
import { createAccessLog, cutForLog, type Logger, redactUrls } from './log';

/** Per-request values set by the base app. */
export type HubEnv = { Variables: { requestId: string } };

export interface BaseAppDeps {
  /** With `admin`, bearer keys made in the console pass too (after `WXHUB_API_KEYS`). */
  store: Pick<Store, 'ping'> & { admin?: Pick<AdminRepo, 'apiKeyByHash' | 'touchApiKey'> };
  log: Logger;
  clock?: Clock;
  /** Request metrics (`GET /metrics`) and, when configured, a trace span per request. */
  telemetry?: Telemetry;
  /** `GET /metrics` and `GET /healthz?detail=1` (without: 404 and the cheap check only). */
  ops?: OpsEndpoints;
  /**
   * Route with Hono's TrieRouter, which files each route as it is added, instead of the default
   * RegExpRouter, which compiles every route into one expression at the first request: faster
   * to match, but the first request of an SCF instance is its cold start, and an instance may
   * answer only a few (see `npm run bench -- cold-start`). Hono falls back to TrieRouter for
   * the routes RegExpRouter cannot take; both match the same (router.test.ts).
   */
  coldStartRouting?: boolean;
  config: {
    /** `WXHUB_METRICS_KEY`: a bearer key that passes for `GET /metrics` only. */
    metricsKey?: string | undefined;
    bodyLimitBytes: number;
    proxyBodyLimitBytes?: number;
    /** Which routes this process serves (`WXHUB_EXPOSE`); `all` when unset. */
    expose?: Exposure;
  } & InternalAuthOptions;
}

/** Routes that forward bodies to WeChat (media uploads): they take `proxyBodyLimitBytes`. */
const PROXY_PATH =
  /^\/v1\/(proxy\/[^/]+|pay\/[^/]+\/proxy|components\/[^/]+\/(authorizers\/[^/]+\/)?proxy)\//;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Answers built by {@link answerJson}: they carry `x-request-id` in their own headers. */
const withRequestId = new WeakSet<Response>();

/**
 * A 200 answer of already-serialised JSON with `x-request-id` in its own headers. On Node that is
 * cheaper than the base app adding the header to the outgoing message afterwards (which moves
 * Node's head writing onto its slower path); the base app skips the header for these answers.
 */
export function answerJson(c: Context<HubEnv>, body: string): Response {
  const res = new Response(body, {
    status: 200,
    headers: { 'content-type': 'application/json', 'x-request-id': c.get('requestId') },
  });
  withRequestId.add(res);
  return res;
}

function fail(c: Context<HubEnv>, code: ErrorCode, message: string, extra = {}) {
  return c.json(errorBody(code, message, c.get('requestId'), extra), CODE_TO_STATUS[code]);
}

/** The answer to a path no route serves; also to a route this process does not expose. */
function noRoute(c: Context<HubEnv>) {
  // The answer echoes only the start of a path; the access line has the rest (cut too).
  return fail(
    c,
    'NOT_FOUND',
    `no route for ${cutForLog(c.req.method, 16)} ${cutForLog(c.req.path, 64)}`,
  );
}

/**
 * The base every function's app starts from: request id (`x-request-id`, echoed), one JSON log
 * line per request (path without query values), internal auth for every path under `/v1/`
 * (401), body size limit (413), the error envelope and `GET /healthz`. Function routes are
 * mounted on it with `app.route('/', routes)`. A path the process does not expose
 * (`config.expose`, classified by its prefix in ./exposure.ts) answers the same 404 as an
 * unknown one, before any other check.
 */
export function createBaseApp(deps: BaseAppDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>(deps.coldStartRouting === true ? { router: new TrieRouter() } : {});
  const access = createAccessLog(deps.log);
  const keys = deps.store.admin;
  const authorize = createInternalAuth(
    deps.config,
    keys === undefined
      ? undefined
      : createKeyChecker(keys, deps.clock ?? systemClock, (err) =>
          deps.log.warn({ err: describe(err) }, 'could not record an API key as used'),
        ),
  );
  const exposure = deps.config.expose ?? 'all';
  const metricsKey = deps.config.metricsKey;
  const isMetricsKey = metricsKey === undefined ? undefined : createKeyMatcher([metricsKey]);
  /** `WXHUB_METRICS_KEY` presented for `/metrics` (it opens nothing else). */
  const metricsKeyPresented = (c: Context<HubEnv>): boolean => {
    if (isMetricsKey === undefined) return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(requestHeader(c, 'authorization') ?? '');
    return m !== null && isMetricsKey(m[1] ?? '');
  };

  const tooLarge = (c: Context<HubEnv>, maxSize: number) => {
    // The rest of the body is never read: the connection cannot carry another request.
    setResponseHeader(c, 'connection', 'close');
    return fail(c, 'PAYLOAD_TOO_LARGE', `request body exceeds ${maxSize} bytes`);
  };
  const limiter = (maxSize: number) =>
    bodyLimit({ maxSize, onError: (c) => tooLarge(c as Context<HubEnv>, maxSize) });
  const limitBody = limiter(deps.config.bodyLimitBytes);
  const limitProxyBody =
    deps.config.proxyBodyLimitBytes === undefined
      ? limitBody
      : limiter(deps.config.proxyBodyLimitBytes);

  const telemetry = deps.telemetry;
  const metrics = telemetry?.metrics;

  // One middleware for request id, body limit, access line and metrics: each composed layer
  // costs a promise per request, and a cached token read is only a few of those.
  const handle = async (c: Context<HubEnv>, next: () => Promise<void>, requestId: string) => {
    const started = performance.now();
    const method = c.req.method;
    const path = c.req.path;
    // Every route is classified and every internal one guarded here, so a new one cannot be
    // mounted without either.
    const hidden = exposure !== 'all' && !isExposed(path, exposure);
    let refused =
      !hidden && isInternalPath(path) && !(path === '/metrics' && metricsKeyPresented(c))
        ? authorize(c)
        : undefined;
    // A response returned here (hidden, refused, or too large) is the answer; otherwise the route's.
    let early: Response | undefined;
    // Only a key that is none of WXHUB_API_KEYS is looked up (in the database): a promise.
    if (refused instanceof Promise) {
      try {
        refused = await refused;
      } catch (err) {
        refused = undefined;
        deps.log.warn({ requestId, err: describe(err) }, 'cannot check a bearer key: db down');
        setResponseHeader(c, 'x-request-id', requestId);
        early = fail(c, 'UNAVAILABLE', 'cannot check the bearer key now; try again');
      }
    }
    if (early !== undefined) {
      // The key could not be checked: answered above.
    } else if (hidden) {
      setResponseHeader(c, 'x-request-id', requestId);
      early = noRoute(c);
    } else if (refused !== undefined) {
      setResponseHeader(c, 'x-request-id', requestId);
      c.header('WWW-Authenticate', refused.challenge);
      early = fail(c, 'UNAUTHORIZED', refused.message);
    } else if (method === 'GET' || method === 'HEAD') {
      // No body to check; skipping the check also keeps @hono/node-server from building a full
      // Request object, which it would force on every read of a token.
      await next();
      // Set after the route, unless its answer already carries it (answerJson).
      if (!withRequestId.has(c.res)) setResponseHeader(c, 'x-request-id', requestId);
    } else {
      setResponseHeader(c, 'x-request-id', requestId);
      const proxied = PROXY_PATH.test(path);
      // On Node a declared length is checked as it is and the body left for requestText().
      const declared = proxied ? undefined : leaveBodyUnread(c);
      if (declared !== undefined) {
        if (declared.declared > deps.config.bodyLimitBytes) {
          early = tooLarge(c, deps.config.bodyLimitBytes);
        } else await next();
      } else {
        // The limit answers its 413 as a Response; otherwise it passes on what `next()` gives.
        const limited: unknown = await (proxied ? limitProxyBody : limitBody)(c, next);
        if (limited instanceof Response) early = limited;
      }
    }
    const status = early?.status ?? c.res.status;
    const ms = performance.now() - started;
    access({ requestId, method, path, status, ms: Math.round(ms * 10) / 10 });
    metrics?.request(method, hidden ? UNMATCHED : routeOf(c), status, ms / 1000);
    return early;
  };

  // Not async itself: it hands on `handle`'s promise, adding none of its own.
  app.use((c, next) => {
    const incoming = requestHeader(c, 'x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    if (telemetry?.loadTracing === undefined) return handle(c, next, requestId);
    return traced(telemetry, c, requestId, () => handle(c, next, requestId));
  });

  const ops = deps.ops;
  if (ops !== undefined) {
    app.get('/metrics', async (c) => {
      const { contentType, body } = await ops.metrics();
      return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
    });
  }

  app.get('/healthz', async (c) => {
    if (c.req.query('detail') !== undefined && ops !== undefined) {
      // The detail names credentials and their errors: internal callers only.
      let refused = authorize(c);
      if (refused instanceof Promise) {
        try {
          refused = await refused;
        } catch (err) {
          deps.log.warn(
            { requestId: c.get('requestId'), err: describe(err) },
            'cannot check a bearer key: db down',
          );
          return fail(c, 'UNAVAILABLE', 'cannot check the bearer key now; try again');
        }
      }
      if (refused !== undefined) {
        c.header('WWW-Authenticate', refused.challenge);
        return fail(c, 'UNAUTHORIZED', refused.message);
      }
      const detail = await ops.healthDetail();
      return c.json(detail.body, detail.ok ? 200 : 503, { 'cache-control': 'no-store' });
    }
    try {
      await withTimeout(deps.store.ping(), 2_000);
      return c.json({ status: 'ok', db: 'ok' });
    } catch (err) {
      deps.log.warn({ requestId: c.get('requestId'), err: describe(err) }, 'health check: db down');
      return c.json({ status: 'unavailable', db: 'down' }, 503);
    }
  });

  app.notFound(noRoute);

  app.onError((err, c) => {
    if (err instanceof AppError) return fail(c, err.code, err.message, err.extra);
    if (err instanceof WechatApiError) {
      return fail(c, 'UPSTREAM_WECHAT', `${err.label} ${err.errcode}: ${err.errmsg}`, {
        errcode: err.errcode,
      });
    }
    if (err instanceof WechatTransportError) {
      // Unreachable, timed out or an unusable answer: the message names the API path only.
      return fail(c, transportErrorCode(err), err.message);
    }
    if (err instanceof HTTPException && err.status < 500) {
      return fail(c, err.status === 401 ? 'UNAUTHORIZED' : 'BAD_REQUEST', err.message);
    }
    deps.log.error({ requestId: c.get('requestId'), err: describe(err) }, 'unhandled error');
    return fail(c, 'INTERNAL', 'internal error; see the logs for this request id');
  });

  return app;
}

/** The route label of a request no route serves (404s): paths themselves are never labels. */
const UNMATCHED = 'unmatched';

/** The template of the route that answered (`/v1/apps/:app/token`), or {@link UNMATCHED}. */
function routeOf(c: Context<HubEnv>): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const path = routes[i]?.path;
    if (path !== undefined && path !== '/*' && path !== '*') return path;
  }
  return UNMATCHED;
}

/**
 * Serves the request inside a server span (traces on): method, route template, status and the
 * request id (`wxhub.request_id`, the `x-request-id` echoed and logged), never the query; a
 * caller's `traceparent` is continued. The spans are sent when the request is done, without
 * holding its answer back.
 */
async function traced(
  telemetry: Telemetry,
  c: Context<HubEnv>,
  requestId: string,
  serve: () => Promise<Response | undefined>,
): Promise<Response | undefined> {
  let tracing = telemetry.tracing;
  if (tracing === undefined && telemetry.loadTracing !== undefined) {
    try {
      tracing = await telemetry.loadTracing();
    } catch {
      // Traces could not be loaded: the request is served without them (tried again next time).
      return serve();
    }
  }
  if (tracing === undefined) return serve();
  const t = tracing;
  const method = c.req.method;
  try {
    return await t.inSpan(
      `${method}`,
      { 'http.request.method': method, 'url.path': c.req.path, 'wxhub.request_id': requestId },
      async (span) => {
        const early = await serve();
        const status = early?.status ?? c.res.status;
        const route = routeOf(c);
        span.setAttribute('http.route', route);
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.fail(`HTTP ${status}`);
        return early;
      },
      'server',
      requestHeader(c, 'traceparent'),
    );
  } finally {
    t.flush().catch(() => undefined);
  }
}

/** Error name, code and message for logs (no request bodies, no secrets by construction). */
export function describe(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      // A URL in the message (fetch repeats its URL) loses user info and query.
      message: redactUrls(err.message),
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'unknown', message: redactUrls(String(err)) };
}

/** Rejects when `p` takes longer than `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
