import { AppError, WechatApiError } from '../http/errors';
import type { Deps } from '../platform/deps';
import type { AppRecord } from '../store';
import { appAccessToken, invalidateAccessToken } from '../tokens/app-tokens';
import { parseExactJson } from './exact-json';
import { WechatTransportError } from './http';
import { proxyWechat } from './proxy';

/** What a call with an app's access token needs from the hub's dependencies. */
export type AppCallDeps = Pick<
  Deps,
  'tokens' | 'wechat' | 'douyin' | 'store' | 'clock' | 'fetch' | 'config'
>;

/**
 * POSTs `json` to the WeChat API `path` (`/wxa/…`) with the app's access token, through the same
 * mechanism as `/v1/proxy` ({@link proxyWechat}): the token from the credential manager, and on
 * 40001/40014/42001 that token invalidated (compare-and-refresh) and the call made once more.
 * Answers WeChat's response as it came (JSON or bytes); read it with {@link wechatJson} or
 * {@link wechatImage}.
 */
export function postWithAppToken(
  deps: AppCallDeps,
  app: AppRecord,
  path: string,
  json: unknown,
): Promise<Response> {
  const body = new TextEncoder().encode(JSON.stringify(json));
  return proxyWechat(
    {
      ...(deps.wechat.telemetry === undefined ? {} : { telemetry: deps.wechat.telemetry }),
      baseUrl: deps.wechat.baseUrl,
      fetch: deps.fetch,
      timeoutMs: deps.wechat.timeoutMs,
      maxBytes: deps.config.proxyMaxBytes,
      token: async () => (await appAccessToken(deps.tokens, deps, app)).value,
      invalidate: async (dead) => {
        const { token, heldBack } = await invalidateAccessToken(deps, app, dead);
        return heldBack !== undefined && token.value === dead ? undefined : token.value;
      },
      // Not streamed on to a caller: a body cut off fails the read below.
      onCutOff: () => undefined,
    },
    {
      method: 'POST',
      path: path.replace(/^\//, ''),
      search: new URLSearchParams(),
      body: body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength),
      contentType: 'application/json',
    },
  );
}

const isJson = (res: Response) => /json/i.test(res.headers.get('content-type') ?? '');

/** The answer's bytes; a body that broke off is WeChat's failure (503), never a short image. */
async function bytesOf(res: Response, api: string): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new WechatTransportError(api, 'broke off its answer', res.status, 'unreachable');
  }
}

/** WeChat's `{errcode, errmsg}` in `body` as a {@link WechatApiError}, when errcode ≠ 0. */
function throwErrcode(api: string, body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const { errcode, errmsg } = body as { errcode?: unknown; errmsg?: unknown };
  if (typeof errcode === 'number' && errcode !== 0) {
    throw new WechatApiError(api, errcode, typeof errmsg === 'string' ? errmsg : '');
  }
}

function parse(api: string, bytes: Uint8Array, status: number): unknown {
  try {
    // Numbers kept exact: a msgid can exceed 2^53.
    return parseExactJson(new TextDecoder().decode(bytes));
  } catch {
    throw new WechatTransportError(api, 'answered a body that is not JSON', status);
  }
}

/**
 * A WeChat JSON answer read from {@link postWithAppToken}: the object on `errcode` 0 (or none);
 * `errcode ≠ 0` is a {@link WechatApiError} (502 with the errcode), a non-2xx status or a body
 * that is not a JSON object a {@link WechatTransportError}.
 */
export async function wechatJson<T extends object>(res: Response, api: string): Promise<T> {
  const bytes = await bytesOf(res, api);
  if (!res.ok) throw new WechatTransportError(api, `HTTP ${res.status}`, res.status);
  const body = parse(api, bytes, res.status);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WechatTransportError(api, 'answered a JSON value that is not an object', res.status);
  }
  throwErrcode(api, body);
  return body as T;
}

/** An image as WeChat sent it: its bytes and its content type. */
export interface WechatImage {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/**
 * An image answer read from {@link postWithAppToken}. WeChat answers the image bytes on success
 * and JSON `{errcode, errmsg}` on failure, both with HTTP 200, so this branches on the content
 * type (https://developers.weixin.qq.com/miniprogram/dev/server/API/qrcode-link/qr-code/api_getunlimitedqrcode).
 * An image larger than `maxBytes` is refused (502): it would not fit where it is stored.
 */
export async function wechatImage(
  res: Response,
  api: string,
  maxBytes: number,
): Promise<WechatImage> {
  const contentType = res.headers.get('content-type') ?? '';
  const bytes = await bytesOf(res, api);
  if (!res.ok) throw new WechatTransportError(api, `HTTP ${res.status}`, res.status);
  if (isJson(res)) {
    throwErrcode(api, parse(api, bytes, res.status));
    throw new WechatTransportError(api, 'answered JSON without an errcode instead of an image');
  }
  if (!/^image\/[a-z0-9.+-]+$/i.test(contentType.split(';')[0]?.trim() ?? '')) {
    throw new WechatTransportError(api, 'answered neither an image nor JSON', res.status);
  }
  if (bytes.length === 0) throw new WechatTransportError(api, 'answered an empty image');
  if (bytes.length > maxBytes) {
    throw new WechatTransportError(api, `answered an image over ${maxBytes} bytes`);
  }
  return { bytes, contentType: contentType.split(';')[0]?.trim() ?? contentType };
}
