import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Store } from '../store';
import { AppError, CODE_TO_STATUS, type ErrorCode, errorBody, WechatApiError } from './errors';
import type { Logger } from './log';

/** Per-request values set by the base app. */
export type HubEnv = { Variables: { requestId: string } };

export interface BaseAppDeps {
  store: Pick<Store, 'ping'>;
  log: Logger;
  config: { bodyLimitBytes: number };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

function fail(c: Context<HubEnv>, code: ErrorCode, message: string, extra = {}) {
  return c.json(errorBody(code, message, c.get('requestId'), extra), CODE_TO_STATUS[code]);
}

/**
 * The base every function's app starts from: request id (`x-request-id`, echoed), one JSON log
 * line per request (path without query values), body size limit (413), the error envelope and
 * `GET /healthz`. Function routes are mounted on it with `app.route('/', routes)`.
 */
export function createBaseApp(deps: BaseAppDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  // The access line has fixed fields only (path without query, status, timing): it skips the
  // wildcard redaction, which costs more than the rest of a cached token request.
  const access = deps.log.child({}, { redact: [] });

  app.use(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    access.info(
      {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });

  const limitBody = bodyLimit({
    maxSize: deps.config.bodyLimitBytes,
    onError: (c) =>
      fail(
        c as Context<HubEnv>,
        'PAYLOAD_TOO_LARGE',
        `request body exceeds ${deps.config.bodyLimitBytes} bytes`,
      ),
  });
  // GET and HEAD carry no body; skipping them also keeps @hono/node-server from materialising a
  // full Request object, which the body check would force on every read of a token.
  app.use((c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next),
  );

  app.get('/healthz', async (c) => {
    try {
      await withTimeout(deps.store.ping(), 2_000);
      return c.json({ status: 'ok', db: 'ok' });
    } catch (err) {
      deps.log.warn({ requestId: c.get('requestId'), err: describe(err) }, 'health check: db down');
      return c.json({ status: 'unavailable', db: 'down' }, 503);
    }
  });

  app.notFound((c) => fail(c, 'NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`));

  app.onError((err, c) => {
    if (err instanceof AppError) return fail(c, err.code, err.message, err.extra);
    if (err instanceof WechatApiError) {
      return fail(c, 'UPSTREAM_WECHAT', `WeChat errcode ${err.errcode}: ${err.errmsg}`, {
        errcode: err.errcode,
      });
    }
    if (err instanceof HTTPException && err.status < 500) {
      return fail(c, err.status === 401 ? 'UNAUTHORIZED' : 'BAD_REQUEST', err.message);
    }
    deps.log.error({ requestId: c.get('requestId'), err: describe(err) }, 'unhandled error');
    return fail(c, 'INTERNAL', 'internal error; see the logs for this request id');
  });

  return app;
}

/** Error name, code and message for logs (no request bodies, no secrets by construction). */
export function describe(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'unknown', message: String(err) };
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
