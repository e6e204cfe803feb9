import { AppError } from '../http/errors';

const BAD_PATH = 'proxy path must be a relative WeChat API path such as cgi-bin/getcallbackip';

// Characters a path segment may carry as they are, which encodeURIComponent would escape: "$",
// "&", "+", ":" and "@". Not ";", "=" or ",": a server that reads `;…` as path parameters would
// see `cgi-bin/token;x` as `cgi-bin/token`, past the minting check.
const SEGMENT_SAFE = /%(24|26|2B|3A|40)/gi;

/** One decoded path segment, percent-encoded again for the upstream URL. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(SEGMENT_SAFE, (m) => decodeURIComponent(m));
}

/**
 * Turns the decoded wildcard of a proxy route (`c.req.param(...)`, e.g. `cgi-bin/getcallbackip`)
 * into its segments, refusing anything that would leave the API base (`..`, `.`, a leading
 * slash such as an encoded `//host`, backslashes). Empty segments (`a//b`, a trailing slash) are
 * dropped, so the path checked is the path sent.
 */
export function proxySegments(decoded: string): string[] {
  if (decoded.startsWith('/') || decoded.includes('\\'))
    throw new AppError('BAD_REQUEST', BAD_PATH);
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.length === 0 || segments.some((s) => s === '..' || s === '.')) {
    throw new AppError('BAD_REQUEST', BAD_PATH);
  }
  return segments;
}

/** The upstream path (no leading slash) of {@link proxySegments}' segments, percent-encoded. */
export const upstreamPath = (segments: string[]): string => segments.map(encodeSegment).join('/');

const APP_TOKEN = 'GET /v1/apps/{app}/token';

/**
 * Paths that mint a credential the hub serves (and, for most, kill the one it holds), with the
 * hub route to use instead. Keys are normalised: lower case, decoded, no empty segments.
 *
 * `sns/oauth2/access_token` and `sns/oauth2/refresh_token` are not here: they exchange a user's
 * OAuth code for that user's token, which the hub neither holds nor serves, and do not touch the
 * app's access token.
 */
const MINTING_PATHS: Readonly<Record<string, string>> = {
  // Official accounts and mini programs.
  'cgi-bin/token': APP_TOKEN,
  'cgi-bin/stable_token': APP_TOKEN,
  'cgi-bin/ticket/getticket': 'GET /v1/apps/{app}/ticket?type=jsapi (or wx_card)',
  // Third-party platform (component).
  'cgi-bin/component/api_component_token': 'GET /v1/components/{app}/token',
  'cgi-bin/component/api_authorizer_token': 'GET /v1/components/{app}/authorizers/{appid}/token',
  'cgi-bin/component/api_query_auth': 'GET /v1/components/{app}/authorizers/{appid}/token',
  'cgi-bin/component/api_create_preauthcode': 'GET /v1/components/{app}/auth-url',
  // WeCom.
  'cgi-bin/gettoken': APP_TOKEN,
  'cgi-bin/service/get_suite_token': 'GET /v1/suites/{app}/token',
  'cgi-bin/service/get_provider_token': 'the WeCom provider console',
  'cgi-bin/service/get_corp_token': 'GET /v1/suites/{app}/corps/{corpid}/token',
  'cgi-bin/service/get_permanent_code': 'GET /v1/suites/{app}/install-url',
  'cgi-bin/service/v2/get_permanent_code': 'GET /v1/suites/{app}/install-url',
  // Douyin.
  'api/apps/v2/token': APP_TOKEN,
  'api/apps/token': APP_TOKEN,
};

/**
 * Refuses (403) a path that mints a credential the hub serves: fetched through the proxy, WeChat
 * would issue a new one and the hub would go on serving the one that call killed. Matched on the
 * normalised path, so `CGI-BIN//Token/` and `cgi-bin/%74oken` are refused too.
 */
export function assertNotMinting(
  segments: string[],
  app: string,
  /** Routes to name instead of the default ones (e.g. an authorizer's own ticket route). */
  overrides: Readonly<Record<string, string>> = {},
): void {
  const key = segments.join('/').toLowerCase();
  const instead = overrides[key] ?? MINTING_PATHS[key];
  if (instead === undefined) return;
  throw new AppError(
    'FORBIDDEN',
    `${key} mints a credential the hub serves; through the proxy it would replace the one the hub holds. Use ${instead.replace('{app}', app)} instead`,
  );
}
