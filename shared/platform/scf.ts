import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import serverless from 'serverless-http';
import { AppsFileError, ConfigError } from '../config';
import { describe } from '../http/app';
import { CODE_TO_STATUS, type ErrorCode, errorBody } from '../http/errors';
import type { BootstrapOptions } from './bootstrap';
import { bootstrap, runStartupChecks, StartError } from './bootstrap';
import type { Deps } from './deps';
import { reportStartFailure } from './main';

/**
 * Tencent's integrated response (https://cloud.tencent.com/document/product/583/40714): what API
 * Gateway and function URLs answer.
 */
export interface ScfResponse {
  isBase64Encoded: boolean;
  statusCode: number;
  /** Lower-case names; `set-cookie` is an array when there are several cookies. */
  headers: Record<string, string | string[]>;
  body: string;
}

/** What a timer event returns. SCF discards it (timers run async) but shows it in the console. */
export interface ScfTimerResult {
  ok: boolean;
  trigger: string | null;
  time: string | null;
  /** What `onTimer` answered (the refresh summary). */
  result?: unknown;
  error?: string;
}

export type ScfResult = ScfResponse | ScfTimerResult;

/**
 * The `main_handler` export of an event function (`handler: index.main_handler`,
 * https://github.com/serverless-components/tencent-scf docs/configure.md). Never throws.
 */
export type ScfHandler = (event: unknown, context?: unknown) => Promise<ScfResult>;

/** Anything with a Fetch-style `fetch`: a Hono app. */
export interface FetchApp {
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
}

export interface ScfHandlerOptions {
  createApp: (deps: Deps) => FetchApp;
  /** Runs on timer events (the refresh pass); functions without it answer timers with an error. */
  onTimer?: (deps: Deps) => Promise<unknown>;
  /** Passed to {@link bootstrap} (e.g. `migrationsDir`); the environment is `process.env`. */
  bootstrap?: BootstrapOptions;
}

type ServerlessHandler = ReturnType<typeof serverless>;

/** The AWS v1 event serverless-http understands, rebuilt from a Tencent one. */
interface AwsV1Event {
  httpMethod: string;
  path: string;
  headers: Record<string, string>;
  multiValueQueryStringParameters: Record<string, string[]>;
  queryStringParameters: null;
  body: string;
  isBase64Encoded: boolean;
  requestContext: { requestId: string; identity: { sourceIp?: string } };
}

/** serverless-http's v1 answer (lib/provider/aws/format-response.js). */
interface ServerlessResult {
  statusCode: number;
  isBase64Encoded: boolean;
  body: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
// Types sent as text when the bytes are UTF-8; everything else goes base64 (never corrupted).
const TEXT_TYPE =
  /^(text\/|application\/([\w.+-]+\+)?(json|xml)\b|application\/(javascript|x-www-form-urlencoded)\b|image\/svg\+xml\b)/i;

/**
 * Builds an SCF event function's `main_handler` around a function's app. The first event boots the
 * hub as `npm start` does ({@link bootstrap}: config from `process.env`, database opened and
 * migrated, apps file synced) and keeps it for the container; a failed boot answers 503 and is
 * tried again on the next event. HTTP events from API Gateway and function URLs go through
 * serverless-http to the app; timer events run `onTimer` (event structures:
 * https://cloud.tencent.com/document/product/583/31439,
 * https://cloud.tencent.com/document/product/583/96099).
 *
 * @example export const main_handler = createScfHandler({ createApp, onTimer: refreshNow });
 */
export function createScfHandler(opts: ScfHandlerOptions): ScfHandler {
  let booting: Promise<{ deps: Deps; http: ServerlessHandler }> | undefined;
  const boot = () => {
    booting ??= (async () => {
      const deps = await bootstrap(process.env, { ...opts.bootstrap, deferStartupChecks: true });
      let app: FetchApp;
      try {
        // The first request is the cold start (see BaseAppDeps.coldStartRouting).
        app = opts.createApp({ ...deps, coldStartRouting: true });
      } catch (err) {
        // The retry opens the database again; do not leave this handle behind.
        await deps.store.close().catch(() => undefined);
        throw err;
      }
      const fetchListener = getRequestListener((req, env) => app.fetch(req, env));
      // serverless-http answers with the headers the app set (getHeaders()), never the header
      // block Node writes, so Node's own Date header would be formatted and dropped.
      const listener: typeof fetchListener = (req, res) => {
        res.sendDate = false;
        return fetchListener(req, res);
      };
      // Every body comes back base64; toScfResponse decides what may travel as text.
      return { deps, http: serverless(listener, { binary: true, request: exposeRawRequest }) };
    })().catch((err: unknown) => {
      booting = undefined;
      throw err;
    });
    return booting;
  };
  // The start-up checks only warn: they run once, after the first answer, so a cold start is not
  // made longer by them (a frozen instance runs them when it next thaws).
  let checksScheduled = false;
  const scheduleChecks = () => {
    if (checksScheduled || booting === undefined) return;
    checksScheduled = true;
    void booting.then(
      ({ deps }) => setTimeout(() => void runStartupChecks(deps), 0).unref(),
      () => {
        checksScheduled = false;
      },
    );
  };

  return async (event, context) => {
    try {
      return await handle(event, context);
    } finally {
      scheduleChecks();
    }
  };

  async function handle(event: unknown, context: unknown): Promise<ScfResult> {
    // A mysql2 pool keeps the event loop busy; SCF must not wait for it (Tencent's own shim does
    // the same: https://github.com/serverless-components/tencent-express src/_shims/handler.js).
    if (typeof context === 'object' && context !== null) {
      (context as { callbackWaitsForEmptyEventLoop?: boolean }).callbackWaitsForEmptyEventLoop =
        false;
    }
    if (isTimerEvent(event)) return onTimerEvent(event, boot, opts.onTimer);
    const requestId = requestIdOf(event, context);
    const parsed = toAwsEvent(event, requestId);
    if (typeof parsed === 'string') return errorResponse('BAD_REQUEST', parsed, requestId);
    let booted: Awaited<ReturnType<typeof boot>>;
    try {
      booted = await boot();
    } catch (err) {
      reportStartFailure(err);
      return errorResponse('UNAVAILABLE', `wxhub could not start: ${startProblem(err)}`, requestId);
    }
    try {
      return toScfResponse((await booted.http(parsed, context ?? {})) as ServerlessResult);
    } catch (err) {
      booted.deps.log.error({ requestId, err: describe(err) }, 'SCF event failed');
      return errorResponse(
        'INTERNAL',
        'internal error; see the logs for this request id',
        requestId,
      );
    }
  }
}

async function onTimerEvent(
  event: Record<string, unknown>,
  boot: () => Promise<{ deps: Deps }>,
  onTimer: ScfHandlerOptions['onTimer'],
): Promise<ScfTimerResult> {
  const trigger = typeof event.TriggerName === 'string' ? event.TriggerName : null;
  const time = typeof event.Time === 'string' ? event.Time : null;
  if (onTimer === undefined) {
    const error =
      'this function has no timer handler; put the timer trigger on the refresh function';
    process.stderr.write(`wxhub: timer ${trigger ?? '?'}: ${error}\n`);
    return { ok: false, trigger, time, error };
  }
  let deps: Deps;
  try {
    deps = (await boot()).deps;
  } catch (err) {
    reportStartFailure(err);
    return { ok: false, trigger, time, error: `wxhub could not start: ${describe(err).message}` };
  }
  try {
    return { ok: true, trigger, time, result: await onTimer(deps) };
  } catch (err) {
    deps.log.error({ trigger, err: describe(err) }, 'timer run failed');
    return { ok: false, trigger, time, error: describe(err).message };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Tencent sends `Type: "Timer"` (https://cloud.tencent.com/document/product/583/31439); an older
 * copy of the docs shows `timer`.
 */
function isTimerEvent(event: unknown): event is Record<string, unknown> {
  return isRecord(event) && typeof event.Type === 'string' && event.Type.toLowerCase() === 'timer';
}

/** API Gateway's request id, else the invocation's, else a new one (same rule as the app). */
function requestIdOf(event: unknown, context: unknown): string {
  const candidates = [
    isRecord(event) && isRecord(event.requestContext) ? event.requestContext.requestId : undefined,
    isRecord(event) && isRecord(event.headers) ? event.headers['x-api-requestid'] : undefined,
    isRecord(context) ? context.request_id : undefined,
  ];
  const found = candidates.find((v): v is string => typeof v === 'string' && REQUEST_ID.test(v));
  return found ?? randomUUID();
}

/**
 * Query values: a string, or an array when a key repeats (Tencent's event documentation,
 * https://cloud.tencent.com/document/product/583/31439, does not say, so both).
 */
function readQuery(value: unknown, field: string): Record<string, string[]> | string {
  const query: Record<string, string[]> = {};
  if (value === undefined || value === null) return query;
  if (!isRecord(value)) return `${field} must be an object`;
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string') query[key] = [v];
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) query[key] = v;
    else return `${field}.${key} must be a string or an array of strings`;
  }
  return query;
}

/** Header names lower-cased; the body is complete and decoded, so its length is recomputed. */
function readHeaders(value: unknown): Record<string, string> | string {
  const headers: Record<string, string> = {};
  if (value === undefined || value === null) return { host: 'localhost' };
  if (!isRecord(value)) return 'headers must be an object';
  for (const [name, v] of Object.entries(value)) {
    const key = name.toLowerCase();
    if (typeof v !== 'string') return `headers.${name} must be a string`;
    if (key === 'content-length' || key === 'transfer-encoding') continue;
    headers[key] = headers[key] === undefined ? v : `${headers[key]}, ${v}`;
  }
  // Hono builds c.req.url from Host; without it the URL would be https://undefined/….
  if (headers.host === undefined || headers.host === '') headers.host = 'localhost';
  return headers;
}

/**
 * Checks an API Gateway (https://cloud.tencent.com/document/product/583/31439) or function URL
 * (https://cloud.tencent.com/document/product/583/96099) event and rebuilds it as the AWS v1 event
 * serverless-http reads: the query from `queryString` (API Gateway's `queryStringParameters` only
 * holds declared parameters), lower-case headers with a Host, the base64 flag kept for
 * serverless-http to decode. Answers the problem as a string when the event is malformed.
 */
function toAwsEvent(event: unknown, requestId: string): AwsV1Event | string {
  if (!isRecord(event)) return 'the event must be an API Gateway, function URL or timer event';
  const { httpMethod, path, body, isBase64Encoded } = event;
  if (typeof httpMethod !== 'string' || !/^[A-Za-z]{1,16}$/.test(httpMethod)) {
    return 'httpMethod must be an HTTP method';
  }
  if (typeof path !== 'string' || !path.startsWith('/')) return 'path must start with /';
  const headers = readHeaders(event.headers);
  if (typeof headers === 'string') return headers;
  const query =
    event.queryString === undefined || event.queryString === null
      ? readQuery(event.queryStringParameters, 'queryStringParameters')
      : readQuery(event.queryString, 'queryString');
  if (typeof query === 'string') return query;
  if (body !== undefined && body !== null && typeof body !== 'string') {
    return 'body must be a string';
  }
  if (isBase64Encoded !== undefined && typeof isBase64Encoded !== 'boolean') {
    return 'isBase64Encoded must be a boolean';
  }
  if (isBase64Encoded === true && !BASE64.test((body ?? '').replace(/\s/g, ''))) {
    return 'body is not base64 although isBase64Encoded is true';
  }
  const ctx = isRecord(event.requestContext) ? event.requestContext : {};
  return {
    httpMethod: httpMethod.toUpperCase(),
    path,
    headers,
    multiValueQueryStringParameters: query,
    queryStringParameters: null,
    body: body ?? '',
    isBase64Encoded: isBase64Encoded === true,
    requestContext: {
      requestId,
      identity: typeof ctx.sourceIp === 'string' ? { sourceIp: ctx.sourceIp } : {},
    },
  };
}

/**
 * serverless-http's request transform. Its request object has no `rawHeaders`, from which
 * @hono/node-server builds `c.req.header()`, so they are filled in; `rawBody` lets it read the
 * decoded body without streaming.
 */
function exposeRawRequest(req: IncomingMessage & { body?: unknown; rawBody?: Buffer }): void {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) raw.push(name, String(v));
  }
  req.rawHeaders = raw;
  if (Buffer.isBuffer(req.body)) req.rawBody = req.body;
}

/**
 * serverless-http's AWS answer as Tencent's integrated response
 * (https://cloud.tencent.com/document/product/583/40714): several `set-cookie` go as an array in
 * `headers` (the documented way; `multiValueHeaders` is not, so it is dropped), and a body is text
 * only when its type is textual, it is not content-encoded and its bytes are UTF-8; otherwise
 * base64 with `isBase64Encoded: true`.
 */
function toScfResponse(res: ServerlessResult): ScfResponse {
  const headers: Record<string, string | string[]> = { ...res.headers };
  const cookies = res.multiValueHeaders?.['set-cookie'];
  if (cookies !== undefined && cookies.length > 0) {
    headers['set-cookie'] = cookies.length === 1 ? (cookies[0] ?? '') : cookies;
  }
  const bytes = Buffer.from(res.body, res.isBase64Encoded ? 'base64' : 'utf8');
  const type = res.headers?.['content-type'] ?? '';
  const encoding = res.headers?.['content-encoding'] ?? 'identity';
  const text = (type === '' || TEXT_TYPE.test(type)) && encoding === 'identity' && isUtf8(bytes);
  return {
    isBase64Encoded: !text,
    statusCode: res.statusCode,
    headers,
    body: bytes.toString(text ? 'utf8' : 'base64'),
  };
}

function errorResponse(code: ErrorCode, message: string, requestId: string): ScfResponse {
  return {
    isBase64Encoded: false,
    statusCode: CODE_TO_STATUS[code],
    headers: { 'content-type': 'application/json; charset=UTF-8', 'x-request-id': requestId },
    body: JSON.stringify(errorBody(code, message, requestId)),
  };
}

/** The kind of start failure, for callers; the cause itself goes to the function log. */
function startProblem(err: unknown): string {
  if (err instanceof ConfigError) return 'invalid configuration (see the function log)';
  if (err instanceof AppsFileError) return 'invalid WXHUB_APPS (see the function log)';
  if (err instanceof StartError) return 'start-up failed (see the function log)';
  return 'unexpected error (see the function log)';
}
