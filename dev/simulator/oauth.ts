import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { badRequest, readBody } from './control-io';
import { wxError } from './errors';
import type { CallCounters } from './faults';
import { newAccessToken, randomAlnum } from './ids';
import { type Endpoint, okJson, type WxContext, type WxReply, type WxRequest } from './wechat';

/**
 * Official Account OAuth2 web authorization as WeChat plays it
 * (https://developers.weixin.qq.com/doc/service/api/webdev/access/api_snsaccesstoken), direct and
 * on behalf of a third-party platform
 * (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Official_Accounts/official_account_website_authorization.html):
 *
 * - the page `GET /connect/oauth2/authorize` (open.weixin.qq.com) sends the browser straight
 *   back to `redirect_uri?code=CODE&state=STATE` (the component variant adds `&appid=APPID`), or
 *   to `redirect_uri?state=STATE` when the user refuses (`POST /__sim/oauth/next`);
 * - `sns/oauth2/access_token` and `sns/oauth2/component/access_token` exchange a code once (40163
 *   on reuse, 40029 unknown, of another app or older than 5 minutes);
 * - `sns/userinfo` answers the user for a `snsapi_userinfo` token (48001 for `snsapi_base` and
 *   for snapshot-mode users, `is_snapshotuser: 1`).
 */

export const OAUTH_PAGE_PATH = '/connect/oauth2/authorize';
const CODE_TTL_MS = 5 * 60_000;
const TOKEN_TTL_S = 7200;
const SCOPES = ['snsapi_base', 'snsapi_userinfo'];

/** What the user on the next OAuth page of an account does. */
export interface OAuthUser {
  openid?: string;
  unionid?: string;
  nickname?: string;
  /** The user refuses: WeChat sends back only `state`. */
  refuse?: boolean;
  /** Snapshot mode (`is_snapshotuser: 1`): a virtual user; `sns/userinfo` fails. */
  snapshot?: boolean;
}

interface Grant {
  appId: string;
  componentAppId: string | undefined;
  openid: string;
  unionid: string | undefined;
  nickname: string;
  scope: string;
  snapshot: boolean;
  expiresAt: number;
  used: boolean;
}

/** Codes, tokens and queued users of one simulator. */
class OAuthBook {
  readonly next = new Map<string, OAuthUser[]>();
  readonly codes = new Map<string, Grant>();
  readonly tokens = new Map<string, Grant>();
  reset(): void {
    this.next.clear();
    this.codes.clear();
    this.tokens.clear();
  }
}

const books = new WeakMap<WxContext, OAuthBook>();
function bookOf(ctx: WxContext): OAuthBook {
  let book = books.get(ctx);
  if (book === undefined) {
    book = new OAuthBook();
    books.set(ctx, book);
  }
  return book;
}

/** Forget the OAuth codes, tokens and queued users (the simulator's `reset`). */
export function resetOAuth(ctx: WxContext): void {
  bookOf(ctx).reset();
}

const str = (v: string | null): string | undefined => (v === null || v === '' ? undefined : v);
const fail = (ctx: WxContext, errcode: number, errmsg?: string): WxReply =>
  okJson(wxError(errcode, ctx.clock.now(), errmsg === undefined ? {} : { errmsg }));

const page = (message: string) =>
  `<!doctype html><meta charset="utf-8"><title>微信授权</title><p>${message}</p>\n`;

/** The OAuth page: consent (or a refusal) at once, as a 302 back to `redirect_uri`. */
function authorizePage(c: Context, ctx: WxContext, counters: CallCounters): Response {
  const q = new URL(c.req.url).searchParams;
  const appId = str(q.get('appid'));
  const componentAppId = str(q.get('component_appid'));
  counters.record(OAUTH_PAGE_PATH, appId);
  const known =
    appId !== undefined &&
    (componentAppId === undefined
      ? ctx.apps.has(appId)
      : ctx.components.has(componentAppId) && ctx.components.hasAuthorizer(appId));
  // WeChat shows these as error pages, not redirects (10003 domain, 10005 scope).
  if (!known) return c.html(page('appid 无效 (invalid appid)'), 400);
  const scope = q.get('scope') ?? '';
  if (!SCOPES.includes(scope)) return c.html(page('10005 scope 参数错误或没有 scope 权限'), 400);
  if (q.get('response_type') !== 'code') return c.html(page('response_type 错误'), 400);
  const redirect = str(q.get('redirect_uri'));
  let back: URL;
  try {
    back = new URL(redirect ?? '');
  } catch {
    return c.html(page('10003 redirect_uri 参数错误'), 400);
  }
  const book = bookOf(ctx);
  const user = book.next.get(appId)?.shift() ?? {};
  const state = q.get('state');
  if (user.refuse !== true) {
    const code = randomAlnum(32);
    book.codes.set(code, {
      appId,
      componentAppId,
      openid: user.openid ?? `o${randomAlnum(27)}`,
      unionid: user.unionid,
      nickname: user.nickname ?? '微信用户',
      scope,
      snapshot: user.snapshot === true,
      expiresAt: ctx.clock.now() + CODE_TTL_MS,
      used: false,
    });
    back.searchParams.set('code', code);
  }
  if (state !== null) back.searchParams.set('state', state);
  if (user.refuse !== true && componentAppId !== undefined) back.searchParams.set('appid', appId);
  return c.redirect(back.toString(), 302);
}

/** Redeems a code once for `appId` (and `componentAppId`): the token answer or the errcode. */
function exchange(
  ctx: WxContext,
  code: string | undefined,
  appId: string,
  componentAppId: string | undefined,
): WxReply {
  if (code === undefined) return fail(ctx, 41008);
  const book = bookOf(ctx);
  const g = book.codes.get(code);
  if (g === undefined || g.appId !== appId || g.componentAppId !== componentAppId) {
    return fail(ctx, 40029);
  }
  if (g.used) return fail(ctx, 40163);
  if (ctx.clock.now() >= g.expiresAt) return fail(ctx, 40029);
  g.used = true;
  const token = newAccessToken();
  book.tokens.set(token, { ...g, expiresAt: ctx.clock.now() + TOKEN_TTL_S * 1000 });
  return okJson({
    access_token: token,
    expires_in: TOKEN_TTL_S,
    refresh_token: newAccessToken(),
    openid: g.openid,
    scope: g.scope,
    ...(g.snapshot ? { is_snapshotuser: 1 } : {}),
    ...(g.unionid !== undefined && g.scope === 'snsapi_userinfo' ? { unionid: g.unionid } : {}),
  });
}

/** `GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`. */
const snsAccessToken: Endpoint = {
  method: 'GET',
  appIdOf: (req) => str(req.query.get('appid')),
  handle(req, ctx) {
    const q = req.query;
    const appId = str(q.get('appid'));
    if (appId === undefined) return fail(ctx, 41002);
    if (q.get('grant_type') !== 'authorization_code') return fail(ctx, 40002);
    const secret = str(q.get('secret'));
    if (secret === undefined) return fail(ctx, 41004);
    const app = ctx.apps.get(appId);
    if (app === undefined) return fail(ctx, 40013);
    if (app.secret !== secret) return fail(ctx, 40125);
    return exchange(ctx, str(q.get('code')), appId, undefined);
  },
};

/**
 * `GET /sns/oauth2/component/access_token?appid&code&grant_type&component_appid&component_access_token`:
 * the component token's errcode, 61003 for an account that has not authorized the platform.
 */
const componentSnsAccessToken: Endpoint = {
  method: 'GET',
  appIdOf: (req) => str(req.query.get('appid')),
  handle(req, ctx) {
    const q = req.query;
    const appId = str(q.get('appid'));
    const componentAppId = str(q.get('component_appid'));
    const token = str(q.get('component_access_token') ?? q.get('access_token'));
    const gate = ctx.components.forAuthorizer(componentAppId, token, appId);
    if ('errcode' in gate) return fail(ctx, gate.errcode);
    if (q.get('grant_type') !== 'authorization_code') return fail(ctx, 40002);
    if (appId === undefined) return fail(ctx, 41002);
    return exchange(ctx, str(q.get('code')), appId, componentAppId);
  },
};

/** `GET /sns/userinfo?access_token&openid&lang`. */
const snsUserinfo: Endpoint = {
  method: 'GET',
  appIdOf: (req, ctx) => bookOf(ctx).tokens.get(req.query.get('access_token') ?? '')?.appId,
  handle(req: WxRequest, ctx) {
    const token = str(req.query.get('access_token'));
    if (token === undefined) return fail(ctx, 41001);
    const g = bookOf(ctx).tokens.get(token);
    if (g === undefined) return fail(ctx, 40001);
    if (ctx.clock.now() >= g.expiresAt) return fail(ctx, 42001);
    if (req.query.get('openid') !== g.openid) return fail(ctx, 40003, 'invalid openid');
    if (g.scope !== 'snsapi_userinfo' || g.snapshot) return fail(ctx, 48001, 'api unauthorized');
    return okJson({
      openid: g.openid,
      nickname: g.nickname,
      sex: 0,
      province: '',
      city: '',
      country: '',
      headimgurl: `https://thirdwx.qlogo.cn/mmopen/vi_32/${g.openid}/132`,
      privilege: [],
      ...(g.unionid !== undefined ? { unionid: g.unionid } : {}),
    });
  },
};

/** The OAuth APIs on api.weixin.qq.com, by path (looked up after the other endpoints). */
export const OAUTH_ENDPOINTS: Readonly<Record<string, Endpoint>> = {
  '/sns/oauth2/access_token': snsAccessToken,
  '/sns/oauth2/component/access_token': componentSnsAccessToken,
  '/sns/userinfo': snsUserinfo,
};

const nextSchema = z.strictObject({
  appId: z.string().min(1),
  openid: z.string().min(1).max(128).optional(),
  unionid: z.string().min(1).max(128).optional(),
  nickname: z.string().min(1).max(64).optional(),
  refuse: z.boolean().optional(),
  snapshot: z.boolean().optional(),
});

/**
 * Mounts the OAuth page and its control, `POST /__sim/oauth/next` body
 * `{"appId", "openid"?, "unionid"?, "nickname"?, "refuse"?, "snapshot"?}`: what the user on the
 * next OAuth page of `appId` does (queued; without one, a fresh user consents).
 */
export function mountOAuthSimulator(app: Hono, ctx: WxContext, counters: CallCounters): void {
  app.get(OAUTH_PAGE_PATH, (c) => authorizePage(c, ctx, counters));
  app.post('/__sim/oauth/next', async (c) => {
    const got = await readBody(c, nextSchema);
    if (!got.ok) return got.response;
    const { appId, ...user } = got.value;
    if (!ctx.apps.has(appId) && !ctx.components.hasAuthorizer(appId)) {
      return badRequest(c, `unknown appId ${appId}: register it first`);
    }
    const queue = bookOf(ctx).next.get(appId) ?? [];
    queue.push(user);
    bookOf(ctx).next.set(appId, queue);
    return c.json({ queued: queue.length });
  });
}
