import { AppError } from '../http/errors';

/**
 * Douyin's codes for a token that is wrong or expired: `11016` ("accessToken 校验不通过" /
 * "access_token不正确或者已过期" in the server APIs' error tables, e.g. `share_config`, mirrored
 * at https://douyin.apifox.cn/api-130700197) and `40002` (the older APIs' "access_token 错误").
 * UNCONFIRMED as a complete list (Douyin publishes no global table; README says so): the proxy
 * invalidates the token and retries once on these only.
 */
export const DOUYIN_TOKEN_ERR_NOS: ReadonlySet<number> = new Set([11016, 40002]);

/** Douyin answers its code as `err_no` (v2), `errcode` (older APIs) or `data.error_code`. */
export function isDeadDouyinToken(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Record<string, unknown>;
  const data = typeof b.data === 'object' && b.data !== null ? b.data : {};
  const codes = [b.err_no, b.errcode, (data as Record<string, unknown>).error_code];
  return codes.some((c) => typeof c === 'number' && DOUYIN_TOKEN_ERR_NOS.has(c));
}

/** The header the newer Douyin APIs read the token from. */
export const DOUYIN_TOKEN_HEADER = 'access-token';

const encoder = new TextEncoder();

/**
 * The caller's JSON object body with `"access_token"` put first (the older Douyin APIs read the
 * token from the body). The caller's bytes are kept as they are after it (no re-serialising, so
 * 64-bit numbers stay exact). A body that is not a JSON object goes as it is; one that carries
 * its own `access_token` is refused (400): the hub's token must be the one sent.
 */
export function douyinBodyWithToken(
  body: ArrayBuffer | undefined,
  token: string,
): ArrayBuffer | undefined {
  if (body === undefined || body.byteLength === 0) return body;
  const text = new TextDecoder().decode(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return body;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return body;
  if (Object.hasOwn(parsed, 'access_token')) {
    throw new AppError(
      'BAD_REQUEST',
      'leave access_token out of the body: the hub adds the app token itself',
    );
  }
  const open = text.indexOf('{');
  const rest = text.slice(open + 1).trimStart();
  const sep = rest.startsWith('}') ? '' : ',';
  const out = `${text.slice(0, open + 1)}"access_token":${JSON.stringify(token)}${sep}${text.slice(open + 1)}`;
  const bytes = encoder.encode(out);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
