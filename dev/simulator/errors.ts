import { newRid } from './ids';

/** The JSON body WeChat answers on failure. */
export interface WxErrorBody {
  errcode: number;
  errmsg: string;
}

/** Default errmsg texts per errcode (the text before the ` rid: …` suffix). */
const DEFAULT_ERRMSG: Readonly<Record<number, string>> = {
  [-1]: 'system error',
  40001:
    'invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken',
  40002: 'invalid grant_type',
  40004: 'invalid media type',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40029: 'invalid code',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  40163: 'code been used',
  40169: 'invalid length for scene, or the data is not json string',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  41005: 'media data missing',
  41008: 'missing code',
  42001: 'access_token expired',
  43001: 'require GET method',
  43002: 'require POST method',
  44002: 'empty post data',
  45009: 'reach max api daily quota limit',
  // Spelling ("mustslower") copied from the official stable_token error table.
  45011: 'api minute-quota reach limit mustslower retry next minute',
  47001: 'data format error',
  61005: 'component ticket is expired',
  61003: 'component is not authorized by this account',
  61006: 'component ticket is invalid',
  61009: 'code is invalid',
  61010: 'code is expired',
  61023: 'refresh_token is invalid',
};

/**
 * Header on the simulator's answer to a path it does not play (WeChat or WeChat Pay would answer
 * otherwise), so a caller can tell a gap of the simulator from an error of WeChat.
 */
export const SIM_MARK_HEADER = 'x-wxhub-simulator';

/** The errmsg of a WeChat API path the simulator does not play; it names the simulator. */
export function unknownPathMessage(path: string): string {
  return `wxhub simulator: ${path} is not a simulated WeChat API (see README, The WeChat simulator)`;
}

/** The 40164 text WeChat uses, naming the caller IP it saw. */
export function ipNotWhitelistedMessage(ip: string): string {
  const v6 = ip.includes(':') ? ip : `::ffff:${ip}`;
  return `invalid ip ${ip} ipv6 ${v6}, not in whitelist`;
}

/** Default errmsg (without rid) for `errcode`; 40164 names `ip`. */
export function defaultErrmsg(errcode: number, ip: string): string {
  if (errcode === 40164) return ipNotWhitelistedMessage(ip);
  return DEFAULT_ERRMSG[errcode] ?? `error ${errcode}`;
}

/** Append a WeChat-style ` rid: …` suffix unless the message already has one. */
export function withRid(errmsg: string, nowMs: number): string {
  return errmsg.includes(' rid: ') ? errmsg : `${errmsg} rid: ${newRid(nowMs)}`;
}

/** Build `{errcode, errmsg}` with the default text (or `errmsg`) plus a rid suffix. */
export function wxError(
  errcode: number,
  nowMs: number,
  opts: { errmsg?: string; ip?: string } = {},
): WxErrorBody {
  const text = opts.errmsg ?? defaultErrmsg(errcode, opts.ip ?? '0.0.0.0');
  return { errcode, errmsg: withRid(text, nowMs) };
}
