import { WechatApiError } from '../http/errors';
import type { WechatHttp } from '../wechat/http';
import { callWechatJson } from '../wechat/http';

/** How a Douyin error reads in messages and stored refresh errors. */
export const DOUYIN_ERROR_LABEL = 'Douyin err_no';

/**
 * Douyin's error in an answer, as a {@link WechatApiError} (502 with `errcode`, like WeChat's):
 * `err_no ≠ 0` with `err_tips` (the `developer.toutiao.com` v2 APIs), or `data.error_code ≠ 0`
 * with `data.description` (open.douyin.com, e.g. client_token). Both come with HTTP 200
 * (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/interface-request-credential/non-user-authorization/get-access-token).
 */
export function douyinError(
  api: string,
  body: Record<string, unknown>,
): WechatApiError | undefined {
  const { err_no, err_tips, data } = body;
  if (typeof err_no === 'number' && err_no !== 0) {
    return new WechatApiError(api, err_no, textOf(err_tips), DOUYIN_ERROR_LABEL);
  }
  if (typeof data === 'object' && data !== null) {
    const { error_code, description } = data as Record<string, unknown>;
    if (typeof error_code === 'number' && error_code !== 0) {
      return new WechatApiError(api, error_code, textOf(description), DOUYIN_ERROR_LABEL);
    }
  }
  return undefined;
}

const textOf = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : '');

/**
 * `POST {DOUYIN_API_BASE}{api}` with a JSON body; answers `data` of the `err_no`/`data`
 * envelope. Timeouts, unreachable hosts and unusable answers fail as WeChat calls do (504, 503,
 * 502); `api` is the path, never a URL with a secret.
 */
export async function callDouyin(
  http: WechatHttp,
  api: string,
  json: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const body = await callWechatJson<{ data?: unknown }>(
    http,
    api,
    {},
    {
      method: 'POST',
      json,
      errorOf: douyinError,
    },
  );
  const data = body.data;
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
}
