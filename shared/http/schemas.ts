import * as v from 'valibot';
import type { ErrorCode } from './errors';

/** Schemas and error lists more than one route declaration uses (shared/http/routes.ts). */

export const text = (description: string) => v.pipe(v.string(), v.description(description));
export const isoTime = (description: string) =>
  v.pipe(v.string(), v.isoTimestamp(), v.description(description));

export const appParam = text('app name (apps file or database)');
export const appIdParam = text("an authorizer's appid");
export const merchantParam = text('merchant name (apps file or database)');
/** The rest of a proxied path, slashes included (`cgi-bin/user/info`). */
export const proxyPathParam = text('the API path at WeChat, several segments (a/b/c)');

export const AppParams = v.object({ app: appParam });
export const AuthorizerParams = v.object({ app: appParam, appid: appIdParam });

/** A credential as the token routes serve it. */
export const TokenAnswer = v.object({
  appId: text('the appid the token is for'),
  accessToken: text('the access token'),
  expiresAt: isoTime('when it expires (ISO-8601 UTC)'),
});

/** An invalidate report's answer: the token to use now, and why it was not replaced. */
export const InvalidateAnswer = v.object({
  ...TokenAnswer.entries,
  error: v.optional(
    v.pipe(
      v.object({ code: v.literal('RATE_LIMITED'), message: v.string() }),
      v.description('present when a refresh budget held the refresh back'),
    ),
  ),
});

export const TicketAnswer = v.object({
  appId: text('the appid the ticket is for'),
  ticket: text('the ticket'),
  expiresAt: isoTime('when it expires (ISO-8601 UTC)'),
});

export const JssdkAnswer = v.object({
  appId: v.string(),
  timestamp: v.pipe(v.number(), v.integer(), v.description('seconds since the epoch')),
  nonceStr: v.string(),
  signature: text('sha1 signature for wx.config'),
});

export const SessionAnswer = v.object({
  openid: v.string(),
  unionid: v.optional(v.string()),
  sessionKey: v.string(),
});

const INVALIDATE_MESSAGE = 'body must be JSON {"accessToken": "<the token that failed>"}';
/** The body of an invalidate report. */
export const InvalidateBody = v.object(
  {
    accessToken: v.pipe(
      v.string(INVALIDATE_MESSAGE),
      v.nonEmpty(INVALIDATE_MESSAGE),
      v.description('the token that WeChat refused (40001, 40014, 42001)'),
    ),
  },
  INVALIDATE_MESSAGE,
);

const CODE_MESSAGE = 'body must be JSON {"code": "<wx.login code>"}';
/** The body of a code2session call. */
export const LoginBody = v.object(
  {
    code: v.pipe(
      v.string(CODE_MESSAGE),
      v.regex(/^[A-Za-z0-9_-]{1,128}$/, CODE_MESSAGE),
      v.description('the code from wx.login'),
    ),
  },
  CODE_MESSAGE,
);

function isHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

const URL_REQUIRED = 'query parameter url is required';
/** The page a JS-SDK signature is for: an absolute http(s) URL. */
export const PageUrlQuery = v.object(
  {
    url: v.pipe(
      v.string(URL_REQUIRED),
      v.nonEmpty(URL_REQUIRED),
      v.check(isHttpUrl, 'url must be an absolute http(s) URL'),
      v.description('the page URL wx.config runs on, without its #fragment'),
    ),
  },
  URL_REQUIRED,
);

/** Answers from WeChat's side: an errcode, no answer in time, unreachable. */
export const WECHAT_ERRORS: readonly ErrorCode[] = [
  'UPSTREAM_WECHAT',
  'UPSTREAM_TIMEOUT',
  'UNAVAILABLE',
];
/** A stored secret that cannot be read (README, Secrets at rest). */
export const SECRET_ERRORS: readonly ErrorCode[] = ['SECRET_KEY_UNKNOWN', 'SECRET_UNREADABLE'];

/**
 * An object schema's message for a missing key, by key (`description is required`), and `whole`
 * for anything else the object schema itself refuses (not an object, not JSON).
 */
export function keyMessages(whole: string, keys: Readonly<Record<string, string>>) {
  return (issue: v.BaseIssue<unknown>): string => {
    const key = issue.path?.length === 1 ? issue.path[0]?.key : undefined;
    return typeof key === 'string' ? (keys[key] ?? whole) : whole;
  };
}
