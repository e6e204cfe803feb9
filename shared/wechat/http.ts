import { WechatApiError } from '../http/errors';

/** WeChat could not be reached or answered a non-2xx status: transient, retry later. */
export class WechatTransportError extends Error {
  override name = 'WechatTransportError';
  constructor(
    readonly api: string,
    message: string,
    readonly status?: number,
  ) {
    super(`WeChat ${api}: ${message}`);
  }
}

export interface WechatHttp {
  baseUrl: string;
  fetch: typeof fetch;
  timeoutMs: number;
}

/**
 * Calls a WeChat JSON API and returns the parsed body; `errcode ≠ 0` becomes a
 * {@link WechatApiError}, a network failure, timeout or non-2xx a {@link WechatTransportError}.
 * `api` is the path used in messages — never the URL, which may carry a secret.
 */
export async function callWechatJson<T>(
  http: WechatHttp,
  api: string,
  query: Record<string, string>,
  init: { method?: 'GET' | 'POST'; json?: unknown } = {},
): Promise<T> {
  const url = `${http.baseUrl}${api}?${new URLSearchParams(query).toString()}`;
  let res: Response;
  try {
    res = await http.fetch(url, {
      method: init.method ?? 'GET',
      headers: init.json === undefined ? {} : { 'content-type': 'application/json' },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: AbortSignal.timeout(http.timeoutMs),
    });
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    throw new WechatTransportError(
      api,
      timedOut ? `timed out after ${http.timeoutMs} ms` : 'unreachable',
    );
  }
  const text = await res.text();
  if (!res.ok) throw new WechatTransportError(api, `HTTP ${res.status}`, res.status);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new WechatTransportError(api, 'answered a body that is not JSON', res.status);
  }
  if (typeof body !== 'object' || body === null) {
    throw new WechatTransportError(api, 'answered a JSON value that is not an object');
  }
  const { errcode, errmsg } = body as { errcode?: unknown; errmsg?: unknown };
  if (typeof errcode === 'number' && errcode !== 0) {
    throw new WechatApiError(api, errcode, typeof errmsg === 'string' ? errmsg : '');
  }
  return body as T;
}
