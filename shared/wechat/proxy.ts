import { AppError } from '../http/errors';
import { type Telemetry, upstreamCall } from '../metrics/telemetry';

/** Errcodes that mean "this access token is dead": invalidate it and retry once. */
export const TOKEN_ERRCODES = new Set([40001, 40014, 42001]);

// Hop-by-hop headers, those fetch() already undid (it decompresses bodies), and those a caller
// must not get from WeChat's host: cookies, auth challenges and CORS grants are the hub's to set.
const DROP_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-encoding',
  'content-length',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'set-cookie',
  'set-cookie2',
  'www-authenticate',
  'proxy-authenticate',
]);
/** Only answers up to this size are read whole to look for a dead-token errcode. */
const JSON_SNIFF_LIMIT = 64 * 1024;
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

export interface ProxyRequest {
  method: string;
  /** The WeChat path, percent-encoded, e.g. `cgi-bin/getcallbackip` (no leading slash). */
  path: string;
  search: URLSearchParams;
  body: ArrayBuffer | undefined;
  contentType: string | undefined;
}

export interface ProxyDeps {
  /** Each call is counted (`wxhub_upstream_calls_total{platform="wechat",api="/<path>"}`) and traced. */
  telemetry?: Telemetry;
  baseUrl: string;
  fetch: typeof fetch;
  /** How long WeChat may take to send its headers, and at most between two chunks of a body. */
  timeoutMs: number;
  /** JSON and text answers longer than this are refused (502), or cut off once streaming. */
  maxBytes: number;
  token(): Promise<string>;
  /** Query parameters the token is sent in (a caller's own values dropped); `access_token`. */
  tokenParams?: readonly string[];
  /** A request header the token is sent in as well (Douyin's `access-token`). */
  tokenHeader?: string;
  /** The request body with the token put in (Douyin's JSON `access_token`); as sent by default. */
  bodyWithToken?: (body: ArrayBuffer | undefined, token: string) => ArrayBuffer | undefined;
  /** The `platform` label of its calls in metrics and traces: `wechat` unless said. */
  platform?: string;
  /** True for a (small JSON) answer saying the token is dead; WeChat's {@link TOKEN_ERRCODES}. */
  isDeadToken?: (body: unknown) => boolean;
  /**
   * Reports `dead` as failed and answers the token to retry with, or `undefined` when no fresher
   * token can be had now (the refresh was held back): then WeChat's answer goes out as it is.
   */
  invalidate(dead: string): Promise<string | undefined>;
  /** Told why an answer already under way was cut off (for a log line; no body, no token). */
  onCutOff(reason: string): void;
  /** Hangs up on the caller at once (a real socket); without it, the body stream errors. */
  hangUp?: () => void;
}

/** The upstream call under way: its answer, and the switch that ends it. */
interface Upstream {
  res: Response;
  abort: AbortController;
}

/** The answer's body so far: the chunks read, and whether that was all of it. */
interface Head {
  chunks: Uint8Array[];
  bytes: number;
  done: boolean;
}

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;

class IdleTimeout extends Error {
  override name = 'IdleTimeout';
}

async function send(deps: ProxyDeps, req: ProxyRequest, token: string): Promise<Upstream> {
  const query = new URLSearchParams(req.search);
  for (const name of deps.tokenParams ?? ['access_token']) {
    query.delete(name);
    query.set(name, token);
  }
  const headers: Record<string, string> = {};
  if (req.contentType !== undefined) headers['content-type'] = req.contentType;
  if (deps.tokenHeader !== undefined) headers[deps.tokenHeader] = token;
  const body = deps.bodyWithToken === undefined ? req.body : deps.bodyWithToken(req.body, token);
  const abort = new AbortController();
  // Bounds the wait for headers only: a body is bounded chunk by chunk (readWithin).
  const timer = setTimeout(() => abort.abort(), deps.timeoutMs);
  try {
    const res = await deps.fetch(`${deps.baseUrl}/${req.path}?${query.toString()}`, {
      method: req.method,
      headers,
      body,
      signal: abort.signal,
      redirect: 'manual',
    });
    return { res, abort };
  } catch {
    if (abort.signal.aborted) {
      throw new AppError('UPSTREAM_TIMEOUT', `WeChat did not answer within ${deps.timeoutMs} ms`);
    }
    throw new AppError('UNAVAILABLE', 'WeChat is unreachable');
  } finally {
    clearTimeout(timer);
  }
}

/** One read of `reader`, given up (and the upstream call aborted) after `ms` without bytes. */
function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
  abort: AbortController,
): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new IdleTimeout(`WeChat sent no bytes for ${ms} ms`));
      abort.abort();
    }, ms);
    reader.read().then(
      (r) => {
        clearTimeout(timer);
        resolve(r);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

const isCapped = (res: Response) => /json|^text\//i.test(res.headers.get('content-type') ?? '');

function contentLength(res: Response): number | undefined {
  const v = res.headers.get('content-length');
  return v !== null && /^\d+$/.test(v) ? Number(v) : undefined;
}

function tooLarge(deps: ProxyDeps, size: string): AppError {
  return new AppError(
    'UPSTREAM_WECHAT',
    `WeChat answered ${size} bytes of JSON or text, more than WXHUB_PROXY_MAX_BYTES (${deps.maxBytes})`,
  );
}

/**
 * Checks WeChat's answer before anything goes to the caller, and reads a small JSON or text
 * body whole (to look for a dead-token errcode). Redirects and oversized JSON/text are 502, a
 * body stalling before the caller got anything is 504.
 */
async function readHead(
  deps: ProxyDeps,
  up: Upstream,
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
): Promise<Head> {
  const { res } = up;
  const head: Head = { chunks: [], bytes: 0, done: reader === undefined };
  if (res.status >= 300 && res.status < 400 && res.status !== 304) {
    up.abort.abort();
    throw new AppError(
      'UPSTREAM_WECHAT',
      `WeChat answered a redirect (${res.status}); the proxy does not follow redirects`,
    );
  }
  const capped = isCapped(res);
  const length = contentLength(res);
  if (capped && length !== undefined && length > deps.maxBytes) {
    up.abort.abort();
    throw tooLarge(deps, String(length));
  }
  if (reader === undefined || !capped || (length !== undefined && length > JSON_SNIFF_LIMIT)) {
    return head;
  }
  try {
    while (head.bytes <= JSON_SNIFF_LIMIT) {
      const r = await readWithin(reader, deps.timeoutMs, up.abort);
      if (r.done) {
        head.done = true;
        break;
      }
      head.chunks.push(r.value);
      head.bytes += r.value.length;
    }
  } catch (err) {
    up.abort.abort();
    if (err instanceof IdleTimeout) throw new AppError('UPSTREAM_TIMEOUT', err.message);
    throw new AppError('UNAVAILABLE', 'WeChat broke off its answer');
  }
  if (capped && head.bytes > deps.maxBytes) {
    up.abort.abort();
    throw tooLarge(deps, `over ${deps.maxBytes}`);
  }
  return head;
}

function concat(chunks: Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function copyHeaders(from: Headers): Headers {
  const h = new Headers();
  from.forEach((v, k) => {
    const name = k.toLowerCase();
    if (!DROP_RESPONSE_HEADERS.has(name) && !name.startsWith('access-control-')) h.append(k, v);
  });
  return h;
}

/**
 * The caller's answer: WeChat's status and headers, and the body streamed on. After the
 * headers, a body that stalls (no bytes for `timeoutMs`) or a JSON/text one that outgrows
 * `maxBytes` is cut off: the caller's connection is dropped (or the body stream errors), so a
 * truncated answer never looks complete.
 */
function answer(
  deps: ProxyDeps,
  up: Upstream,
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
  head: Head,
): Response {
  const { res } = up;
  const headers = copyHeaders(res.headers);
  if (NULL_BODY_STATUS.has(res.status)) {
    up.abort.abort();
    return new Response(null, { status: res.status, headers });
  }
  if (head.done || reader === undefined) {
    return new Response(concat(head.chunks, head.bytes), { status: res.status, headers });
  }
  const capped = isCapped(res);
  const queued = head.chunks.slice();
  let total = head.bytes;
  let ended = false;
  const cutOff = (controller: ReadableStreamDefaultController<Uint8Array>, reason: string) => {
    ended = true;
    up.abort.abort();
    deps.onCutOff(reason);
    if (deps.hangUp === undefined) {
      controller.error(new AppError('UPSTREAM_TIMEOUT', reason));
      return;
    }
    deps.hangUp();
    controller.close();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = queued.shift();
      if (next !== undefined) {
        controller.enqueue(next);
        return;
      }
      let r: ReadResult;
      try {
        r = await readWithin(reader, deps.timeoutMs, up.abort);
      } catch (err) {
        if (!ended) {
          cutOff(controller, err instanceof IdleTimeout ? err.message : 'WeChat broke off');
        }
        return;
      }
      if (r.done) {
        ended = true;
        controller.close();
        return;
      }
      total += r.value.length;
      if (capped && total > deps.maxBytes) {
        cutOff(controller, `WeChat's answer outgrew WXHUB_PROXY_MAX_BYTES (${deps.maxBytes})`);
        return;
      }
      controller.enqueue(r.value);
    },
    cancel() {
      // The caller went away: stop reading from WeChat.
      ended = true;
      up.abort.abort();
    },
  });
  return new Response(body, { status: res.status, headers });
}

/** True for WeChat's errcode of a dead token ({@link TOKEN_ERRCODES}) in a parsed answer. */
function wechatDeadToken(body: unknown): boolean {
  const code = errcodeOf(body);
  return code !== undefined && TOKEN_ERRCODES.has(code);
}

/** The errcode of a parsed answer (WeChat's `errcode`, Douyin's `err_no`), if it names one. */
function errcodeOf(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { errcode, err_no } = body as { errcode?: unknown; err_no?: unknown };
  const code = errcode ?? err_no;
  return typeof code === 'number' ? code : undefined;
}

/** A small JSON answer read whole, parsed; undefined for any other answer. */
function smallJson(res: Response, head: Head): unknown {
  if (!head.done || head.bytes > JSON_SNIFF_LIMIT || !isCapped(res)) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(concat(head.chunks, head.bytes))) as unknown;
  } catch {
    return undefined;
  }
}

/** Sends, checks and answers one upstream call; `retry` may take over on a dead token. */
async function forward(
  deps: ProxyDeps,
  req: ProxyRequest,
  token: string,
  retry: (() => Promise<Response | undefined>) | undefined,
): Promise<Response> {
  const call = upstreamCall(deps.telemetry, deps.platform ?? 'wechat', `/${req.path}`);
  let up: Upstream;
  try {
    up = await send(deps, req, token);
  } catch (err) {
    call.end(
      err instanceof AppError && err.code === 'UPSTREAM_TIMEOUT' ? 'timeout' : 'unreachable',
    );
    throw err;
  }
  const reader = up.res.body?.getReader();
  let head: Head;
  try {
    head = await readHead(deps, up, reader);
  } catch (err) {
    call.end(up.res.ok ? 'bad_answer' : `http_${up.res.status}`);
    throw err;
  }
  // A streamed or large answer is counted as a success: its errcode is not read.
  const body = smallJson(up.res, head);
  call.end(up.res.ok ? (errcodeOf(body) ?? 0) : `http_${up.res.status}`);
  if (retry !== undefined && body !== undefined && (deps.isDeadToken ?? wechatDeadToken)(body)) {
    const again = await retry();
    if (again !== undefined) return again;
  }
  return answer(deps, up, reader, head);
}

/**
 * Forwards a call to WeChat with the app's access token (a caller-supplied one is replaced) and
 * streams WeChat's status, headers and bytes back (cookies, auth challenges and CORS headers
 * dropped; redirects not followed but answered 502). On 40001/40014/42001 it invalidates that
 * token and retries once, unless the refresh is held back; a second failure is answered as
 * WeChat sent it. The path must already be checked (proxy-path.ts).
 */
export async function proxyWechat(deps: ProxyDeps, req: ProxyRequest): Promise<Response> {
  const token = await deps.token();
  return forward(deps, req, token, async () => {
    const fresh = await deps.invalidate(token);
    if (fresh === undefined) return undefined;
    return forward(deps, req, fresh, undefined);
  });
}
