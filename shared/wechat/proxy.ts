import { AppError } from '../http/errors';

/** Errcodes that mean "this access token is dead": invalidate it and retry once. */
export const TOKEN_ERRCODES = new Set([40001, 40014, 42001]);

// Hop-by-hop headers, and those fetch() already undid (it decompresses bodies).
const DROP_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-encoding',
  'content-length',
  'proxy-connection',
  'upgrade',
]);
const JSON_SNIFF_LIMIT = 64 * 1024;

export interface ProxyRequest {
  method: string;
  /** The WeChat path, e.g. `cgi-bin/getcallbackip` (no leading slash). */
  path: string;
  search: URLSearchParams;
  body: ArrayBuffer | undefined;
  contentType: string | undefined;
}

export interface ProxyDeps {
  baseUrl: string;
  fetch: typeof fetch;
  timeoutMs: number;
  token(): Promise<string>;
  /** Reports `dead` as failed and answers the token to retry with. */
  invalidate(dead: string): Promise<string>;
}

/** Rejects paths that would leave the WeChat API base (`..`, `//host`, backslashes). */
export function assertProxyPath(path: string): void {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = '..';
  }
  const bad = (p: string) =>
    p === '' || p.startsWith('/') || p.includes('\\') || p.split('/').includes('..');
  if (bad(path) || bad(decoded)) {
    throw new AppError(
      'BAD_REQUEST',
      'proxy path must be a relative WeChat API path such as cgi-bin/getcallbackip',
    );
  }
}

async function send(deps: ProxyDeps, req: ProxyRequest, token: string): Promise<Response> {
  const query = new URLSearchParams(req.search);
  query.delete('access_token');
  query.set('access_token', token);
  try {
    return await deps.fetch(`${deps.baseUrl}/${req.path}?${query.toString()}`, {
      method: req.method,
      headers: req.contentType === undefined ? {} : { 'content-type': req.contentType },
      body: req.body,
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError') {
      throw new AppError('UPSTREAM_TIMEOUT', `WeChat did not answer within ${deps.timeoutMs} ms`);
    }
    throw new AppError('UPSTREAM_WECHAT', 'WeChat is unreachable');
  }
}

function copyHeaders(from: Headers): Headers {
  const h = new Headers();
  from.forEach((v, k) => {
    if (!DROP_RESPONSE_HEADERS.has(k.toLowerCase())) h.append(k, v);
  });
  return h;
}

/** WeChat's errcode in a small JSON body, if it is one (errors come as HTTP 200). */
function tokenErrcode(bytes: Uint8Array): number | undefined {
  if (bytes.length > JSON_SNIFF_LIMIT) return undefined;
  try {
    const body: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const code =
      typeof body === 'object' && body !== null
        ? (body as { errcode?: unknown }).errcode
        : undefined;
    return typeof code === 'number' && TOKEN_ERRCODES.has(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

const looksJson = (res: Response) =>
  /json|text\/plain/i.test(res.headers.get('content-type') ?? '');

/**
 * Forwards a call to WeChat with the app's access token (a caller-supplied one is replaced) and
 * answers WeChat's status, headers and bytes as they are. On 40001/40014/42001 it invalidates
 * that token and retries once; a second failure is answered as WeChat sent it.
 */
export async function proxyWechat(deps: ProxyDeps, req: ProxyRequest): Promise<Response> {
  assertProxyPath(req.path);
  const token = await deps.token();
  const first = await send(deps, req, token);
  if (!looksJson(first)) {
    return new Response(first.body, { status: first.status, headers: copyHeaders(first.headers) });
  }
  const bytes = new Uint8Array(await first.arrayBuffer());
  if (tokenErrcode(bytes) === undefined) {
    return new Response(bytes, { status: first.status, headers: copyHeaders(first.headers) });
  }
  const retryToken = await deps.invalidate(token);
  const second = await send(deps, req, retryToken);
  return new Response(second.body, { status: second.status, headers: copyHeaders(second.headers) });
}
