import { createHash } from 'node:crypto';
import type { CapabilityBook } from './capabilities';
import type { SimClock } from './clock';
import type { ComponentBook } from './component';
import { wxError } from './errors';
import type { GrantBook } from './grants';
import { isTicketType } from './grants';
import { DEFAULT_QR_WIDTH, isValidScene, wxacodeBytes } from './qrcode';
import type { SimAppConfig, TokenBook } from './state';

/** A WeChat API call as the simulator sees it (transport-independent). */
export interface WxRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
  /** The body as sent (binary uploads). */
  bytes: Uint8Array;
  /** Caller IP WeChat would see (x-forwarded-for or the configured egress IP). */
  ip: string;
}

/** What to answer: JSON (WeChat style), raw bytes, or a plain text/HTML body. */
export type WxReply =
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'bytes'; status: number; body: Uint8Array; contentType: string }
  | { kind: 'text'; status: number; body: string; contentType: string };

/** Simulator state the endpoint handlers work on. */
export interface WxContext {
  apps: Map<string, SimAppConfig>;
  tokens: TokenBook;
  grants: GrantBook;
  components: ComponentBook;
  clock: SimClock;
  capabilities: CapabilityBook;
}

/** One simulated WeChat endpoint. */
export interface Endpoint {
  method: 'GET' | 'POST';
  /** The app a call is for (used by counters and per-app faults), if it can be told. */
  appIdOf(req: WxRequest, ctx: WxContext): string | undefined;
  handle(req: WxRequest, ctx: WxContext): WxReply;
}

/** Addresses returned by getcallbackip. */
export const CALLBACK_IPS = ['101.226.62.77', '101.226.62.78', '101.226.103.0/25'];

type JsonBody = { kind: 'empty' } | { kind: 'invalid' } | { kind: 'ok'; value: unknown };

/** Parse a POST body the way WeChat judges it: empty, not JSON, or a JSON value. */
export function parseJsonBody(body: string): JsonBody {
  if (body.trim() === '') return { kind: 'empty' };
  try {
    return { kind: 'ok', value: JSON.parse(body) as unknown };
  } catch {
    return { kind: 'invalid' };
  }
}

/** HTTP 200 JSON body. */
export function okJson(body: unknown): WxReply {
  return { kind: 'json', status: 200, body };
}

/** HTTP 200 WeChat error with the default errmsg and a rid. */
export function errJson(ctx: WxContext, req: WxRequest, errcode: number): WxReply {
  return okJson(wxError(errcode, ctx.clock.now(), { ip: req.ip }));
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

interface Credentials {
  grantType: string | undefined;
  appId: string | undefined;
  secret: string | undefined;
}

/** Shared appid/secret/grant_type checks; returns the app or the errcode to answer. */
function checkCredentials(ctx: WxContext, c: Credentials, grant: string): SimAppConfig | number {
  if (c.appId === undefined) return 41002;
  if (c.grantType !== grant) return 40002;
  if (c.secret === undefined) return 41004;
  const app = ctx.apps.get(c.appId);
  if (!app) return 40013;
  if (app.secret !== c.secret) return 40125;
  return app;
}

/** Credentials plus IP whitelist (token endpoints only): the app, or the error reply. */
function checkTokenCaller(
  ctx: WxContext,
  req: WxRequest,
  c: Credentials,
): { app: SimAppConfig } | { reply: WxReply } {
  const app = checkCredentials(ctx, c, 'client_credential');
  if (typeof app === 'number') return { reply: errJson(ctx, req, app) };
  if (app.ipWhitelist && !app.ipWhitelist.includes(req.ip)) {
    return { reply: errJson(ctx, req, 40164) };
  }
  return { app };
}

function queryCredentials(req: WxRequest): Credentials {
  const q = req.query;
  return {
    grantType: str(q.get('grant_type')),
    appId: str(q.get('appid')),
    secret: str(q.get('secret')),
  };
}

function stableBody(req: WxRequest): Record<string, unknown> | undefined {
  const parsed = parseJsonBody(req.body);
  return parsed.kind === 'ok' ? asRecord(parsed.value) : undefined;
}

/** Token check for token-taking APIs: the owning app id, or the error reply. */
export function tokenGate(req: WxRequest, ctx: WxContext): { appId: string } | { reply: WxReply } {
  const raw = req.query.get('access_token');
  // A third-party platform's authorizer token works where the account's own token does.
  const authorizer = ctx.components.checkAuthorizerToken(raw ?? undefined);
  if (authorizer !== undefined) {
    return authorizer.ok
      ? { appId: authorizer.appId }
      : { reply: errJson(ctx, req, authorizer.errcode) };
  }
  const check = ctx.tokens.check(raw === null ? undefined : raw);
  return check.ok ? { appId: check.appId } : { reply: errJson(ctx, req, check.errcode) };
}

const byQueryAppId = (req: WxRequest): string | undefined => str(req.query.get('appid'));
export const byTokenOwner = (req: WxRequest, ctx: WxContext): string | undefined => {
  const token = req.query.get('access_token') ?? undefined;
  return ctx.tokens.ownerOf(token) ?? ctx.components.authorizerOf(token);
};

const classicToken: Endpoint = {
  method: 'GET',
  appIdOf: byQueryAppId,
  handle(req, ctx) {
    const caller = checkTokenCaller(ctx, req, queryCredentials(req));
    if ('reply' in caller) return caller.reply;
    return okJson(ctx.tokens.issueClassic(caller.app.appId));
  },
};

const stableToken: Endpoint = {
  method: 'POST',
  appIdOf: (req) => str(stableBody(req)?.appid),
  handle(req, ctx) {
    const parsed = parseJsonBody(req.body);
    if (parsed.kind === 'empty') return errJson(ctx, req, 44002);
    const body = parsed.kind === 'ok' ? asRecord(parsed.value) : undefined;
    if (!body) return errJson(ctx, req, 47001);
    const c = { grantType: str(body.grant_type), appId: str(body.appid), secret: str(body.secret) };
    const caller = checkTokenCaller(ctx, req, c);
    if ('reply' in caller) return caller.reply;
    const result = ctx.tokens.stable(caller.app.appId, body.force_refresh === true);
    return result.ok ? okJson(result.grant) : errJson(ctx, req, result.errcode);
  },
};

const getTicket: Endpoint = {
  method: 'GET',
  appIdOf: byTokenOwner,
  handle(req, ctx) {
    const gate = tokenGate(req, ctx);
    if ('reply' in gate) return gate.reply;
    const type = req.query.get('type') ?? undefined;
    if (!isTicketType(type)) return errJson(ctx, req, 40097);
    return okJson(ctx.grants.ticket(gate.appId, type));
  },
};

const jscode2session: Endpoint = {
  method: 'GET',
  appIdOf: byQueryAppId,
  handle(req, ctx) {
    const app = checkCredentials(ctx, queryCredentials(req), 'authorization_code');
    if (typeof app === 'number') return errJson(ctx, req, app);
    const code = str(req.query.get('js_code'));
    if (code === undefined) return errJson(ctx, req, 41008);
    const result = ctx.grants.redeem(app.appId, code);
    return result.ok ? okJson(result.session) : errJson(ctx, req, result.errcode);
  },
};

const getCallbackIp: Endpoint = {
  method: 'GET',
  appIdOf: byTokenOwner,
  handle(req, ctx) {
    const gate = tokenGate(req, ctx);
    return 'reply' in gate ? gate.reply : okJson({ ip_list: CALLBACK_IPS });
  },
};

/**
 * Customer-service message: an account's own token, or an authorizer token of a third-party
 * platform (what it sends is kept, see ComponentBook.customMessages).
 */
const customSend: Endpoint = {
  method: 'POST',
  appIdOf: (req, ctx) => {
    const token = req.query.get('access_token') ?? '';
    const authorizer = ctx.components.authorizerOfToken(token);
    if (authorizer !== undefined && 'authorizerAppId' in authorizer) {
      return authorizer.authorizerAppId;
    }
    return byTokenOwner(req, ctx);
  },
  handle(req, ctx) {
    const authorizer = ctx.components.authorizerOfToken(req.query.get('access_token') ?? '');
    if (authorizer !== undefined && 'errcode' in authorizer) {
      return errJson(ctx, req, authorizer.errcode);
    }
    if (authorizer === undefined) {
      const gate = tokenGate(req, ctx);
      if ('reply' in gate) return gate.reply;
    }
    const parsed = parseJsonBody(req.body);
    if (parsed.kind === 'empty') return errJson(ctx, req, 44002);
    if (parsed.kind === 'invalid') return errJson(ctx, req, 47001);
    const body = asRecord(parsed.value);
    if (authorizer !== undefined && body !== undefined) {
      ctx.components.recordCustomMessage(authorizer.authorizerAppId, body);
    }
    return okJson({ errcode: 0, errmsg: 'ok' });
  },
};

const wxacodeUnlimit: Endpoint = {
  method: 'POST',
  appIdOf: byTokenOwner,
  handle(req, ctx) {
    const gate = tokenGate(req, ctx);
    if ('reply' in gate) return gate.reply;
    const parsed = parseJsonBody(req.body);
    if (parsed.kind === 'empty') return errJson(ctx, req, 44002);
    if (parsed.kind === 'invalid') return errJson(ctx, req, 47001);
    const body = asRecord(parsed.value);
    if (!body || !isValidScene(body.scene)) return errJson(ctx, req, 40169);
    const page = typeof body.page === 'string' ? body.page : '';
    const width = typeof body.width === 'number' ? body.width : DEFAULT_QR_WIDTH;
    const bytes = wxacodeBytes(body.scene, page, width);
    return { kind: 'bytes', status: 200, body: bytes, contentType: 'image/jpeg' };
  },
};

/** Media types `cgi-bin/media/upload` accepts. */
const MEDIA_TYPES = new Set(['image', 'voice', 'video', 'thumb']);

/**
 * Temporary media upload (multipart). Besides WeChat's `type`, `media_id` and `created_at`, the
 * simulator echoes the body's `size` and `sha256` so a test can tell it arrived byte-exact.
 */
const mediaUpload: Endpoint = {
  method: 'POST',
  appIdOf: byTokenOwner,
  handle(req, ctx) {
    const gate = tokenGate(req, ctx);
    if ('reply' in gate) return gate.reply;
    const type = req.query.get('type') ?? '';
    if (!MEDIA_TYPES.has(type)) return errJson(ctx, req, 40004);
    if (req.bytes.length === 0) return errJson(ctx, req, 41005);
    const sha256 = createHash('sha256').update(req.bytes).digest('hex');
    return okJson({
      type,
      media_id: `sim-media-${sha256.slice(0, 32)}`,
      created_at: Math.floor(ctx.clock.now() / 1000),
      size: req.bytes.length,
      sha256,
    });
  },
};

/** Third-party platform `api_component_token` (JSON body; see ./component.ts). */
const componentToken: Endpoint = {
  method: 'POST',
  appIdOf: (req) => str(stableBody(req)?.component_appid),
  handle(req, ctx) {
    const parsed = parseJsonBody(req.body);
    if (parsed.kind === 'empty') return errJson(ctx, req, 44002);
    const body = parsed.kind === 'ok' ? asRecord(parsed.value) : undefined;
    if (!body) return errJson(ctx, req, 47001);
    const result = ctx.components.componentToken(
      str(body.component_appid),
      str(body.component_appsecret),
      str(body.component_verify_ticket),
    );
    return 'errcode' in result ? errJson(ctx, req, result.errcode) : okJson(result);
  },
};

/** The JSON object body of a component call, or the error reply for an empty or bad one. */
function componentBody(
  req: WxRequest,
  ctx: WxContext,
): { body: Record<string, unknown> } | { reply: WxReply } {
  const parsed = parseJsonBody(req.body);
  if (parsed.kind === 'empty') return { reply: errJson(ctx, req, 44002) };
  const body = parsed.kind === 'ok' ? asRecord(parsed.value) : undefined;
  if (!body) return { reply: errJson(ctx, req, 47001) };
  return { body };
}

/** The component token: `component_access_token`, or `access_token` as newer docs name it. */
function componentTokenOf(req: WxRequest): string | undefined {
  return str(req.query.get('component_access_token') ?? req.query.get('access_token'));
}

/** Third-party platform `api_query_auth` (authorization code → authorization_info). */
const queryAuth: Endpoint = {
  method: 'POST',
  appIdOf: (req) => str(stableBody(req)?.component_appid),
  handle(req, ctx) {
    const got = componentBody(req, ctx);
    if ('reply' in got) return got.reply;
    const result = ctx.components.queryAuth(
      str(got.body.component_appid),
      componentTokenOf(req),
      str(got.body.authorization_code),
    );
    return 'errcode' in result ? errJson(ctx, req, result.errcode) : okJson(result);
  },
};

/** Third-party platform `api_create_preauthcode` (a single-use code for the authorization page). */
const createPreAuthCode: Endpoint = {
  method: 'POST',
  appIdOf: (req) => str(stableBody(req)?.component_appid),
  handle(req, ctx) {
    const got = componentBody(req, ctx);
    if ('reply' in got) return got.reply;
    const result = ctx.components.createPreAuthCode(
      str(got.body.component_appid),
      componentTokenOf(req),
    );
    return 'errcode' in result ? errJson(ctx, req, result.errcode) : okJson(result);
  },
};

/** Third-party platform `api_authorizer_token` (refresh token → authorizer token; rotates). */
const authorizerToken: Endpoint = {
  method: 'POST',
  appIdOf: (req) => str(stableBody(req)?.component_appid),
  handle(req, ctx) {
    const got = componentBody(req, ctx);
    if ('reply' in got) return got.reply;
    const result = ctx.components.authorizerToken(
      str(got.body.component_appid),
      componentTokenOf(req),
      str(got.body.authorizer_appid),
      str(got.body.authorizer_refresh_token),
    );
    return 'errcode' in result ? errJson(ctx, req, result.errcode) : okJson(result);
  },
};

/**
 * `/sns/component/jscode2session`: a mini program authorizer's `wx.login` code exchanged with the
 * component token; 61003 when the mini program has not authorized the component.
 */
const componentJscode2session: Endpoint = {
  method: 'GET',
  appIdOf: (req) => str(req.query.get('component_appid')),
  handle(req, ctx) {
    const q = req.query;
    const authorizerAppId = str(q.get('appid'));
    const gate = ctx.components.forAuthorizer(
      str(q.get('component_appid')),
      componentTokenOf(req),
      authorizerAppId,
    );
    if ('errcode' in gate) return errJson(ctx, req, gate.errcode);
    if (q.get('grant_type') !== 'authorization_code') return errJson(ctx, req, 40002);
    const code = str(q.get('js_code'));
    if (code === undefined || authorizerAppId === undefined) return errJson(ctx, req, 41008);
    const result = ctx.grants.redeem(authorizerAppId, code);
    return result.ok ? okJson(result.session) : errJson(ctx, req, result.errcode);
  },
};

/**
 * `api_get_authorizer_option` (an ordinary call with the component token): the option's value
 * for an authorizer of the component; 61003 when it has not authorized the component.
 */
const authorizerOption: Endpoint = {
  method: 'POST',
  appIdOf: (req) => str(stableBody(req)?.component_appid),
  handle(req, ctx) {
    const got = componentBody(req, ctx);
    if ('reply' in got) return got.reply;
    const { body } = got;
    const authorizerAppId = str(body.authorizer_appid);
    const gate = ctx.components.forAuthorizer(
      str(body.component_appid),
      componentTokenOf(req),
      authorizerAppId,
    );
    if ('errcode' in gate) return errJson(ctx, req, gate.errcode);
    const option = str(body.option_name);
    if (option === undefined) return errJson(ctx, req, 40097);
    return okJson({ authorizer_appid: authorizerAppId, option_name: option, option_value: '1' });
  },
};

/** Third-party platform `api_get_authorizer_list` (paged with `offset` and `count`). */
const authorizerList: Endpoint = {
  method: 'POST',
  appIdOf: (req) => str(stableBody(req)?.component_appid),
  handle(req, ctx) {
    const got = componentBody(req, ctx);
    if ('reply' in got) return got.reply;
    const result = ctx.components.authorizerList(
      str(got.body.component_appid),
      componentTokenOf(req),
      got.body.offset,
      got.body.count,
    );
    return 'errcode' in result ? errJson(ctx, req, result.errcode) : okJson(result);
  },
};

/** Third-party platform `api_get_authorizer_info` (an authorizer's account and authorization). */
const authorizerInfo: Endpoint = {
  method: 'POST',
  appIdOf: (req) => str(stableBody(req)?.component_appid),
  handle(req, ctx) {
    const got = componentBody(req, ctx);
    if ('reply' in got) return got.reply;
    const result = ctx.components.authorizerInfo(
      str(got.body.component_appid),
      componentTokenOf(req),
      str(got.body.authorizer_appid),
    );
    return 'errcode' in result ? errJson(ctx, req, result.errcode) : okJson(result);
  },
};

/** Third-party platform `api_start_push_ticket` (resumes stopped ticket pushes). */
const startPushTicket: Endpoint = {
  method: 'POST',
  appIdOf: (req) => str(stableBody(req)?.component_appid),
  handle(req, ctx) {
    const got = componentBody(req, ctx);
    if ('reply' in got) return got.reply;
    const result = ctx.components.startPushTicket(
      str(got.body.component_appid),
      str(got.body.component_secret),
    );
    return result.errcode === 0 ? okJson(result) : errJson(ctx, req, result.errcode);
  },
};

/** Every simulated WeChat endpoint by path. */
export const ENDPOINTS: Readonly<Record<string, Endpoint>> = {
  '/cgi-bin/token': classicToken,
  '/cgi-bin/stable_token': stableToken,
  '/cgi-bin/ticket/getticket': getTicket,
  '/sns/jscode2session': jscode2session,
  '/sns/component/jscode2session': componentJscode2session,
  '/cgi-bin/component/api_get_authorizer_option': authorizerOption,
  '/cgi-bin/getcallbackip': getCallbackIp,
  '/cgi-bin/message/custom/send': customSend,
  '/wxa/getwxacodeunlimit': wxacodeUnlimit,
  '/cgi-bin/media/upload': mediaUpload,
  '/cgi-bin/component/api_component_token': componentToken,
  '/cgi-bin/component/api_query_auth': queryAuth,
  '/cgi-bin/component/api_create_preauthcode': createPreAuthCode,
  '/cgi-bin/component/api_authorizer_token': authorizerToken,
  '/cgi-bin/component/api_get_authorizer_list': authorizerList,
  '/cgi-bin/component/api_get_authorizer_info': authorizerInfo,
  '/cgi-bin/component/api_start_push_ticket': startPushTicket,
};
