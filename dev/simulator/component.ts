import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SimClock } from './clock';
import { newAccessToken } from './ids';
import { TOKEN_TTL_MS } from './state';

/**
 * The component (third-party platform) side of WeChat's Open Platform:
 * https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/component_verify_ticket.html
 * (a ticket pushed every 10 minutes, valid 12 hours) and
 * https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/component_access_token.html
 * (`api_component_token`: 61005 expired ticket, 61006 invalid ticket), plus authorizers:
 * https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/authorize_event.html
 * (`authorized` / `unauthorized` pushes),
 * https://developers.weixin.qq.com/doc/oplatform/openApi/ticket-token/api_getauthorizerrefreshtoken
 * (`api_query_auth`: a code works once, 61009 used or unknown, 61010 expired) and
 * https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_authorizer_token.html
 * (`api_authorizer_token`: rotates the refresh token, 61023 for one that is not valid),
 * https://developers.weixin.qq.com/doc/oplatform/openApi/authorization-management/api_getauthorizerlist
 * (`api_get_authorizer_list`: `offset`, `count` ≤ 500, `total_count`, items with `refresh_token`
 * and `auth_time`) and
 * https://developers.weixin.qq.com/doc/oplatform/openApi/authorization-management/api_getauthorizerinfo
 * (`api_get_authorizer_info`: `authorizer_info` and `authorization_info`).
 */

/** Registration of one simulated third-party platform. */
export interface SimComponentConfig {
  appId: string;
  secret: string;
  /** The platform's message-verification Token. */
  token: string;
  /** The platform's 43-character EncodingAESKey. */
  encodingAesKey: string;
  /** The hub's auth-event URL; when set, a fresh ticket is pushed every 10 minutes of sim time. */
  eventUrl?: string;
  /** The hub's message-and-event URL, `$APPID$` standing for the authorizer's appid. */
  messageUrl?: string;
}

/** A customer-service message sent with an authorizer token (`/cgi-bin/message/custom/send`). */
export interface SentCustomMessage {
  authorizerAppId: string;
  touser?: string;
  msgtype?: string;
  /** `text.content` of a text message. */
  content?: string;
  /** Sim time it was sent (ms). */
  at: number;
}

/**
 * WeChat's dedicated accounts of the full-network release test (全网发布接入检测), five groups of
 * an official account and a mini program:
 * https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/operation/thirdparty/releases_instructions.html
 */
export const RELEASE_TEST_ACCOUNTS: readonly {
  appId: string;
  userName: string;
  kind: 'official' | 'miniprogram';
}[] = [
  { appId: 'wx570bc396a51b8ff8', userName: 'gh_3c884a361561', kind: 'official' },
  { appId: 'wx9252c5e0bb1836fc', userName: 'gh_c0f28a78b318', kind: 'official' },
  { appId: 'wx8e1097c5bc82cde9', userName: 'gh_3f222ed8d140', kind: 'official' },
  { appId: 'wx14550af28c71a144', userName: 'gh_26128078e9ab', kind: 'official' },
  { appId: 'wxa35b9c23cfe664eb', userName: 'gh_2b3713f184a6', kind: 'official' },
  { appId: 'wxd101a85aa106f53e', userName: 'gh_8dad206e9538', kind: 'miniprogram' },
  { appId: 'wxc39235c15087f6f3', userName: 'gh_905ae9d01059', kind: 'miniprogram' },
  { appId: 'wx7720d01d4b2a4500', userName: 'gh_393666f1fdf4', kind: 'miniprogram' },
  { appId: 'wx05d483572dcd5d8b', userName: 'gh_39abb5d4e1b7', kind: 'miniprogram' },
  { appId: 'wx5910277cae6fd970', userName: 'gh_7818dcb60240', kind: 'miniprogram' },
];

/** Options of {@link ComponentBook.releaseTest}. */
export interface ReleaseTestOptions {
  /** The message URL (`$APPID$` is replaced); default the component's `messageUrl`. */
  url?: string;
  /** The test account to play; default the first group's official account. */
  authorizerAppId?: string;
  /** How long to wait for the customer-service message, real ms; default 5000 (WeChat's 5 s). */
  waitMs?: number;
}

/** One checked step of the release test. */
export interface ReleaseTestStep {
  name: 'ticket' | 'text' | 'event' | 'api';
  passed: boolean;
  /** What was expected and what came back. */
  detail: string;
}

/** The outcome of {@link ComponentBook.releaseTest}. */
export interface ReleaseTestReport {
  passed: boolean;
  authorizerAppId: string;
  steps: ReleaseTestStep[];
}

/** Spacing of automatic ticket pushes (10 min). */
export const TICKET_PUSH_INTERVAL_MS = 10 * 60 * 1000;
/** How long a ticket is accepted (12 h). */
export const TICKET_TTL_MS = 12 * 60 * 60 * 1000;

/** How long a pre-auth code is accepted (`expires_in` 600 in WeChat's example). */
export const PRE_AUTH_CODE_TTL_MS = 600 * 1000;
/** The redirect's `expires_in` (WeChat's documented redirect carries 600). */
export const REDIRECT_EXPIRES_IN = 600;
/** `auth_type` values the authorization page takes (1 OA, 2 MP, 3 both; 4-6 newer kinds). */
export const SIM_AUTH_TYPES = ['1', '2', '3', '4', '5', '6'];

/** How long an authorization code is accepted (1 h, as AuthorizationCodeExpiredTime says). */
export const AUTH_CODE_TTL_MS = 60 * 60 * 1000;
/** How long a rotated-out refresh token still works (about 5 min, per WeChat staff). */
export const REFRESH_GRACE_MS = 5 * 60 * 1000;

interface AuthorizerState {
  appId: string;
  /** Tokens are returned only when the account has API permissions. */
  withTokens: boolean;
  revoked: boolean;
  /** When the admin (last) authorized, Unix seconds (`auth_time`). */
  authTime: number;
  nickName: string;
  /** Original id, `gh_…`. */
  userName: string;
  /** False: `api_get_authorizer_list` leaves `refresh_token` out of its item (seen in the wild). */
  listsRefreshToken: boolean;
  /** Live refresh tokens: value → expiry (sim ms; Infinity for the current one). */
  refresh: Map<string, number>;
  /** Live authorizer access tokens → expiry (sim ms). */
  tokens: Map<string, number>;
}

interface ComponentState {
  cfg: SimComponentConfig;
  authorizers: Map<string, AuthorizerState>;
  /** Authorization codes not yet used: code → authorizer appid and expiry (sim ms). */
  codes: Map<string, { authorizerAppId: string; expiresAt: number }>;
  /** The latest ticket pushed and when (sim ms). */
  ticket?: { value: string; createdAt: number };
  lastPushAt?: number;
  /** Pushes stopped (as when WeChat stops pushing); `api_start_push_ticket` resumes them. */
  pushesStopped?: boolean;
  tokens: Map<string, number>;
  /** Pre-auth codes not yet used on an authorization page: code → expiry (sim ms). */
  preAuthCodes: Map<string, number>;
  /** Who approves on the next authorization pages, oldest first (see {@link ComponentBook.approveNext}). */
  approvals: Approval[];
}

/** An admin set to approve on the next authorization page: which account, and how it is pushed. */
export interface Approval extends AuthorizeOptions {
  authorizerAppId: string;
}

/** What the simulated authorization page did. */
export type AuthorizationPage =
  | {
      kind: 'redirect';
      /** `redirect_uri?auth_code=…&expires_in=600`. */
      location: string;
      code: string;
      authorizerAppId: string;
      /** The `authorized` push (not awaited by the page: push and redirect race, as at WeChat). */
      pushed: Promise<AuthPush>;
    }
  | { kind: 'refused'; status: number; message: string };

/** Result of a ticket push. */
export interface TicketPush {
  ticket: string;
  createTime: number;
  /** HTTP status the hub answered, when the push was sent. */
  status?: number;
  /** Body the hub answered. */
  body?: string;
}

/** Result of an authorization push (`authorized` or `unauthorized`). */
export interface AuthPush {
  /** The authorization code (`authorized` only). */
  code?: string;
  status?: number;
  body?: string;
  /** Every delivery's answer when the push was delivered more than once. */
  deliveries?: { status: number; body: string }[];
}

/** Options of {@link ComponentBook.authorize}. */
export interface AuthorizeOptions {
  /** Where to push; default the component's `eventUrl`. */
  url?: string;
  /** False: `api_query_auth` returns no tokens (an account without API permissions). */
  withTokens?: boolean;
  /** InfoType to push; default `authorized`. */
  infoType?: 'authorized' | 'updateauthorized';
  /** Deliver the same push this many times at once (WeChat redelivers); default 1. */
  deliveries?: number;
  /** The account's name in `api_get_authorizer_info`; default `Sim <appid>`. */
  nickName?: string;
}

/** Most items `api_get_authorizer_list` answers per call. */
export const AUTHORIZER_LIST_MAX = 500;

/** The permission sets every simulated authorization grants (`func_info`). */
const FUNC_INFO = [{ funcscope_category: { id: 1 } }, { funcscope_category: { id: 17 } }];

type AuthorizationInfo = {
  authorizer_appid: string;
  authorizer_access_token?: string;
  expires_in?: number;
  authorizer_refresh_token?: string;
  func_info: { funcscope_category: { id: number } }[];
};

/** Everything the simulator knows about components; pure state plus the push sender. */
export class ComponentBook {
  private readonly components = new Map<string, ComponentState>();
  private readonly sent: SentCustomMessage[] = [];
  /** Every authorizer token ever minted → its authorizer (token checks need no scan). */
  private readonly authorizerTokens = new Map<string, AuthorizerState>();

  constructor(
    private readonly clock: SimClock,
    private readonly send: typeof fetch,
  ) {}

  register(cfg: SimComponentConfig): void {
    const prev = this.components.get(cfg.appId);
    this.components.set(cfg.appId, {
      tokens: new Map(),
      authorizers: new Map(),
      codes: new Map(),
      preAuthCodes: new Map(),
      approvals: [],
      ...prev,
      cfg: { ...cfg },
    });
  }

  has(appId: string): boolean {
    return this.components.has(appId);
  }

  /**
   * `api_component_token`: a fresh 7200 s token when appid, secret and the latest ticket match;
   * otherwise WeChat's errcode (40013 unknown appid, 40125 bad secret, 61006 a ticket that is not
   * the latest one pushed, 61005 the latest one but older than 12 h).
   */
  componentToken(
    appId: string | undefined,
    secret: string | undefined,
    ticket: string | undefined,
  ): { component_access_token: string; expires_in: number } | { errcode: number } {
    if (appId === undefined) return { errcode: 41002 };
    const state = this.components.get(appId);
    if (!state) return { errcode: 40013 };
    if (secret !== state.cfg.secret) return { errcode: 40125 };
    const now = this.clock.now();
    if (!state.ticket || ticket !== state.ticket.value) return { errcode: 61006 };
    if (now - state.ticket.createdAt >= TICKET_TTL_MS) return { errcode: 61005 };
    const token = `c_${newAccessToken()}`;
    state.tokens.set(token, now + TOKEN_TTL_MS);
    return { component_access_token: token, expires_in: TOKEN_TTL_MS / 1000 };
  }

  /** True when `token` is a live component_access_token of `appId`. */
  isTokenValid(appId: string, token: string): boolean {
    const expires = this.components.get(appId)?.tokens.get(token);
    return expires !== undefined && this.clock.now() < expires;
  }

  /**
   * An admin authorizes `authorizerAppId`: mint a single-use authorization code (valid 1 h), and
   * POST the encrypted `authorized` event to `opts.url` or the component's `eventUrl`. Minting a
   * code again (re-authorization) invalidates the previous refresh token once the code is used.
   */
  async authorize(
    appId: string,
    authorizerAppId: string,
    opts: AuthorizeOptions = {},
  ): Promise<AuthPush> {
    const state = this.mustGet(appId);
    const { code, expiresAt } = this.grant(state, authorizerAppId, opts);
    const target = opts.url ?? state.cfg.eventUrl;
    if (target === undefined) return { code };
    return this.pushAuthorized(state, target, authorizerAppId, code, expiresAt, opts);
  }

  /**
   * `api_create_preauthcode`: a single-use pre-auth code for the authorization page, valid 600 s.
   * Errors as for every component call (41001/40001/42001 token, 40013 appid).
   */
  createPreAuthCode(
    appId: string | undefined,
    componentToken: string | undefined,
  ): { pre_auth_code: string; expires_in: number } | { errcode: number } {
    const gate = this.gate(appId, componentToken);
    if ('errcode' in gate) return gate;
    const code = `preauthcode@@@${randomBytes(24).toString('base64url')}`;
    gate.state.preAuthCodes.set(code, this.clock.now() + PRE_AUTH_CODE_TTL_MS);
    return { pre_auth_code: code, expires_in: PRE_AUTH_CODE_TTL_MS / 1000 };
  }

  /**
   * The admin who opens the next authorization page of component `appId` approves account
   * `approval.authorizerAppId` (queued; without one queued, a fresh account approves).
   */
  approveNext(appId: string, approval: Approval): void {
    this.mustGet(appId).approvals.push({ ...approval });
  }

  /**
   * WeChat's authorization page (`componentloginpage` on PC, `bindcomponent` in the WeChat client)
   * played by an admin who approves at once: checks `component_appid`, the single-use
   * `pre_auth_code` and `redirect_uri` (an absolute http(s) URL), then pushes `authorized` to the
   * component's event URL and sends the browser to `redirect_uri?auth_code=…&expires_in=600`.
   */
  authorizationPage(query: URLSearchParams): AuthorizationPage {
    const refuse = (message: string, status = 400) =>
      ({ kind: 'refused', status, message }) as const;
    const appId = query.get('component_appid') ?? '';
    const state = this.components.get(appId);
    if (state === undefined) return refuse('component_appid is not a third-party platform');
    const pre = query.get('pre_auth_code') ?? '';
    const until = state.preAuthCodes.get(pre);
    if (until === undefined) return refuse('pre_auth_code is invalid or was already used');
    state.preAuthCodes.delete(pre);
    if (this.clock.now() >= until) return refuse('pre_auth_code has expired');
    const redirect = httpUrl(query.get('redirect_uri'));
    if (redirect === undefined) return refuse('redirect_uri must be an absolute http(s) URL');
    const authType = query.get('auth_type');
    const bizAppId = query.get('biz_appid');
    if (authType !== null && !SIM_AUTH_TYPES.includes(authType)) return refuse('bad auth_type');
    if (authType !== null && bizAppId !== null) {
      return refuse('auth_type and biz_appid cannot be used together');
    }
    const approval = state.approvals.shift() ?? {
      authorizerAppId: bizAppId ?? `wx${randomBytes(8).toString('hex')}`,
    };
    if (bizAppId !== null && approval.authorizerAppId !== bizAppId) {
      return refuse('this account is not the one biz_appid allows', 403);
    }
    const { authorizerAppId, ...opts } = approval;
    const { code, expiresAt } = this.grant(state, authorizerAppId, opts);
    const target = opts.url ?? state.cfg.eventUrl;
    const pushed =
      target === undefined
        ? Promise.resolve<AuthPush>({ code })
        : this.pushAuthorized(state, target, authorizerAppId, code, expiresAt, opts);
    // A hub that is down gets WeChat's later redeliveries, not an unhandled rejection here.
    pushed.catch(() => undefined);
    redirect.searchParams.set('auth_code', code);
    redirect.searchParams.set('expires_in', String(REDIRECT_EXPIRES_IN));
    return { kind: 'redirect', location: redirect.toString(), code, authorizerAppId, pushed };
  }

  /** The account approves: a single-use authorization code (1 h) for `api_query_auth`. */
  private grant(
    state: ComponentState,
    authorizerAppId: string,
    opts: AuthorizeOptions,
  ): { code: string; expiresAt: number } {
    const prev = state.authorizers.get(authorizerAppId);
    state.authorizers.set(authorizerAppId, {
      appId: authorizerAppId,
      withTokens: opts.withTokens ?? true,
      revoked: false,
      authTime: Math.floor(this.clock.now() / 1000),
      nickName: opts.nickName ?? `Sim ${authorizerAppId}`,
      userName: `gh_${createHash('sha1').update(authorizerAppId).digest('hex').slice(0, 12)}`,
      listsRefreshToken: true,
      refresh: prev?.refresh ?? new Map(),
      tokens: prev?.tokens ?? new Map(),
    });
    const code = `queryauthcode@@@${randomBytes(24).toString('base64url')}`;
    const expiresAt = this.clock.now() + AUTH_CODE_TTL_MS;
    state.codes.set(code, { authorizerAppId, expiresAt });
    return { code, expiresAt };
  }

  /** POSTs the encrypted `authorized` (or `updateauthorized`) event, `deliveries` times at once. */
  private async pushAuthorized(
    state: ComponentState,
    target: string,
    authorizerAppId: string,
    code: string,
    expiresAt: number,
    opts: AuthorizeOptions,
  ): Promise<AuthPush> {
    const appId = state.cfg.appId;
    const createTime = Math.floor(this.clock.now() / 1000);
    const xml =
      `<xml><AppId><![CDATA[${appId}]]></AppId><CreateTime>${createTime}</CreateTime>` +
      `<InfoType><![CDATA[${opts.infoType ?? 'authorized'}]]></InfoType>` +
      `<AuthorizerAppid><![CDATA[${authorizerAppId}]]></AuthorizerAppid>` +
      `<AuthorizationCode><![CDATA[${code}]]></AuthorizationCode>` +
      `<AuthorizationCodeExpiredTime>${Math.floor(expiresAt / 1000)}</AuthorizationCodeExpiredTime>` +
      `<PreAuthCode><![CDATA[preauthcode@@@${randomBytes(12).toString('base64url')}]]></PreAuthCode></xml>`;
    const deliveries = await Promise.all(
      Array.from({ length: opts.deliveries ?? 1 }, async () => {
        const res = await this.post(state.cfg, target, xml, createTime);
        return { status: res.status, body: await res.text() };
      }),
    );
    const [first] = deliveries;
    return { code, status: first?.status, body: first?.body, deliveries };
  }

  /**
   * An authorizer authorized long ago, without a push or a code (bulk set-ups such as the bench):
   * `refreshToken` becomes its live refresh token. Returns it.
   */
  grantWithRefreshToken(appId: string, authorizerAppId: string, refreshToken: string): string {
    const state = this.mustGet(appId);
    state.authorizers.set(authorizerAppId, {
      appId: authorizerAppId,
      withTokens: true,
      revoked: false,
      authTime: Math.floor(this.clock.now() / 1000),
      nickName: `Sim ${authorizerAppId}`,
      userName: `gh_${createHash('sha1').update(authorizerAppId).digest('hex').slice(0, 12)}`,
      listsRefreshToken: true,
      refresh: new Map([[refreshToken, Number.POSITIVE_INFINITY]]),
      tokens: new Map(),
    });
    return refreshToken;
  }

  /** Stop pushing tickets to `appId` (as when WeChat's pushes break) until `api_start_push_ticket`. */
  stopPushes(appId: string): void {
    this.mustGet(appId).pushesStopped = true;
  }

  /**
   * `api_start_push_ticket`: 40013 unknown appid, 40125 wrong secret; otherwise pushes resume (the
   * next `pushDue` pushes at once) and the answer is `ok` when they were stopped, else
   * `in a normal state`.
   */
  startPushTicket(
    appId: string | undefined,
    secret: string | undefined,
  ): { errcode: 0; errmsg: string } | { errcode: number } {
    if (appId === undefined) return { errcode: 41002 };
    const state = this.components.get(appId);
    if (!state) return { errcode: 40013 };
    if (secret !== state.cfg.secret) return { errcode: 40125 };
    if (!state.pushesStopped) return { errcode: 0, errmsg: 'in a normal state' };
    state.pushesStopped = false;
    state.lastPushAt = undefined;
    return { errcode: 0, errmsg: 'ok' };
  }

  /**
   * The admin revokes `authorizerAppId`: its tokens, refresh tokens and unused codes stop working
   * and the encrypted `unauthorized` event is POSTed to `url` or the component's `eventUrl`.
   */
  async unauthorize(appId: string, authorizerAppId: string, url?: string): Promise<AuthPush> {
    const state = this.mustGet(appId);
    const auth = state.authorizers.get(authorizerAppId);
    if (auth) {
      auth.revoked = true;
      auth.refresh.clear();
      auth.tokens.clear();
    }
    for (const [code, entry] of state.codes) {
      if (entry.authorizerAppId === authorizerAppId) state.codes.delete(code);
    }
    const target = url ?? state.cfg.eventUrl;
    if (target === undefined) return {};
    const createTime = Math.floor(this.clock.now() / 1000);
    const xml =
      `<xml><AppId><![CDATA[${appId}]]></AppId><CreateTime>${createTime}</CreateTime>` +
      '<InfoType><![CDATA[unauthorized]]></InfoType>' +
      `<AuthorizerAppid><![CDATA[${authorizerAppId}]]></AuthorizerAppid></xml>`;
    const res = await this.post(state.cfg, target, xml, createTime);
    return { status: res.status, body: await res.text() };
  }

  /**
   * `api_query_auth`: exchange an authorization code (once) for `authorization_info`. Errors:
   * 41001/40001/42001 for the component token, 61009 a used or unknown code, 61010 an expired one.
   */
  queryAuth(
    appId: string | undefined,
    componentToken: string | undefined,
    code: string | undefined,
  ): { authorization_info: AuthorizationInfo } | { errcode: number } {
    const gate = this.gate(appId, componentToken);
    if ('errcode' in gate) return gate;
    const { state } = gate;
    if (code === undefined) return { errcode: 41008 };
    const entry = state.codes.get(code);
    if (!entry) return { errcode: 61009 };
    state.codes.delete(code);
    const now = this.clock.now();
    if (now >= entry.expiresAt) return { errcode: 61010 };
    const auth = state.authorizers.get(entry.authorizerAppId);
    if (!auth || auth.revoked) return { errcode: 61009 };
    const info: AuthorizationInfo = { authorizer_appid: auth.appId, func_info: FUNC_INFO };
    if (!auth.withTokens) return { authorization_info: info };
    // A re-authorization invalidates the previous refresh token.
    auth.refresh.clear();
    const refresh = `refreshtoken@@@${randomBytes(24).toString('base64url')}`;
    auth.refresh.set(refresh, Number.POSITIVE_INFINITY);
    const token = this.mintAuthorizerToken(auth);
    return {
      authorization_info: {
        ...info,
        authorizer_access_token: token,
        expires_in: TOKEN_TTL_MS / 1000,
        authorizer_refresh_token: refresh,
      },
    };
  }

  /**
   * `api_authorizer_token`: a new authorizer token for a live refresh token, which rotates (the
   * old one keeps working for 5 minutes). 61023 for a refresh token that is not (or no longer)
   * valid, 61003 for an authorizer that is not authorized.
   */
  authorizerToken(
    appId: string | undefined,
    componentToken: string | undefined,
    authorizerAppId: string | undefined,
    refreshToken: string | undefined,
  ):
    | { authorizer_access_token: string; expires_in: number; authorizer_refresh_token: string }
    | { errcode: number } {
    const gate = this.gate(appId, componentToken);
    if ('errcode' in gate) return gate;
    if (authorizerAppId === undefined || refreshToken === undefined) return { errcode: 40097 };
    const auth = gate.state.authorizers.get(authorizerAppId);
    if (!auth || auth.revoked) return { errcode: 61003 };
    const now = this.clock.now();
    const until = auth.refresh.get(refreshToken);
    if (until === undefined || now >= until) return { errcode: 61023 };
    for (const [value, expiry] of auth.refresh) {
      if (expiry === Number.POSITIVE_INFINITY) auth.refresh.set(value, now + REFRESH_GRACE_MS);
      else if (expiry <= now) auth.refresh.delete(value); // long dead: forgotten, as WeChat does
    }
    const rotated = `refreshtoken@@@${randomBytes(24).toString('base64url')}`;
    auth.refresh.set(rotated, Number.POSITIVE_INFINITY);
    return {
      authorizer_access_token: this.mintAuthorizerToken(auth),
      expires_in: TOKEN_TTL_MS / 1000,
      authorizer_refresh_token: rotated,
    };
  }

  /**
   * The authorizer of an authorizer access token: its appid, WeChat's errcode when it expired,
   * or undefined for a token that is no authorizer's.
   */
  authorizerOfToken(token: string): { authorizerAppId: string } | { errcode: number } | undefined {
    for (const state of this.components.values()) {
      for (const auth of state.authorizers.values()) {
        const expires = auth.tokens.get(token);
        if (expires === undefined) continue;
        if (auth.revoked) return { errcode: 40001 };
        if (this.clock.now() >= expires) return { errcode: 42001 };
        return { authorizerAppId: auth.appId };
      }
    }
    return undefined;
  }

  /** Keeps a customer-service message an authorizer sent (see {@link customMessages}). */
  recordCustomMessage(authorizerAppId: string, body: Record<string, unknown>): void {
    const text = body.text as { content?: unknown } | undefined;
    this.sent.push({
      authorizerAppId,
      ...(typeof body.touser === 'string' ? { touser: body.touser } : {}),
      ...(typeof body.msgtype === 'string' ? { msgtype: body.msgtype } : {}),
      ...(typeof text?.content === 'string' ? { content: text.content } : {}),
      at: this.clock.now(),
    });
  }

  /** Customer-service messages sent with authorizer tokens, oldest first. */
  customMessages(authorizerAppId?: string): SentCustomMessage[] {
    return this.sent.filter(
      (m) => authorizerAppId === undefined || m.authorizerAppId === authorizerAppId,
    );
  }

  /**
   * Plays WeChat's full-network release test against the hub: a ticket push (when the component
   * has an `eventUrl`), then to the message URL of a dedicated test account, encrypted, as
   * WeChat sends them: text `TESTCOMPONENT_MSG_TYPE_TEXT` (passive reply
   * `TESTCOMPONENT_MSG_TYPE_TEXT_callback` expected), an event (`LOCATIONfrom_callback`; official
   * accounts only) and text `QUERY_AUTH_CODE:<code>` (an empty or `success` answer, then within
   * `waitMs` a customer-service message `<code>_from_api` to the fan, sent with an authorizer
   * token). Each reply is checked: signature, encryption with the component's key and appid.
   */
  async releaseTest(appId: string, opts: ReleaseTestOptions = {}): Promise<ReleaseTestReport> {
    const state = this.mustGet(appId);
    const account = RELEASE_TEST_ACCOUNTS.find(
      (a) => a.appId === (opts.authorizerAppId ?? 'wx570bc396a51b8ff8'),
    );
    if (account === undefined) {
      throw new Error(`${opts.authorizerAppId} is not one of WeChat's release test accounts`);
    }
    const template = opts.url ?? state.cfg.messageUrl;
    if (template === undefined) throw new Error(`component ${appId} has no messageUrl: pass url`);
    const url = template.replaceAll('$APPID$', account.appId);
    const steps: ReleaseTestStep[] = [];
    if (state.cfg.eventUrl !== undefined) {
      const pushed = await this.pushTicket(appId);
      steps.push({
        name: 'ticket',
        passed: pushed.status === 200 && pushed.body === 'success',
        detail: `ticket push answered ${pushed.status} ${JSON.stringify(pushed.body)}`,
      });
    }
    const fan = `o${randomBytes(14).toString('base64url')}`;
    const push = async (inner: string) => {
      const createTime = Math.floor(this.clock.now() / 1000);
      const xml =
        `<xml><ToUserName><![CDATA[${account.userName}]]></ToUserName>` +
        `<FromUserName><![CDATA[${fan}]]></FromUserName><CreateTime>${createTime}</CreateTime>${inner}</xml>`;
      const res = await this.post(state.cfg, url, xml, createTime, account.userName);
      return { status: res.status, body: await res.text() };
    };
    const msgId = () => String(randomBytes(6).readUIntBE(0, 6));
    const expectReply = (
      name: ReleaseTestStep['name'],
      got: { status: number; body: string },
      want: string,
    ) => {
      const opened = openReply(state.cfg, got.body);
      const passed =
        got.status === 200 &&
        opened.content === want &&
        opened.toUser === fan &&
        opened.fromUser === account.userName;
      steps.push({
        name,
        passed,
        detail: passed
          ? `replied ${want}`
          : `expected a reply ${want}; got ${got.status}: ${opened.error ?? JSON.stringify(opened.content)}`,
      });
    };
    expectReply(
      'text',
      await push(
        `<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[TESTCOMPONENT_MSG_TYPE_TEXT]]></Content><MsgId>${msgId()}</MsgId>`,
      ),
      'TESTCOMPONENT_MSG_TYPE_TEXT_callback',
    );
    if (account.kind === 'official') {
      expectReply(
        'event',
        await push(
          '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event>' +
            '<Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>',
        ),
        'LOCATIONfrom_callback',
      );
    }
    // Authorized without any push, as WeChat does for its test accounts.
    const { code } = this.grant(state, account.appId, { withTokens: true });
    const before = this.sent.length;
    const got = await push(
      `<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[QUERY_AUTH_CODE:${code}]]></Content><MsgId>${msgId()}</MsgId>`,
    );
    const want = `${code}_from_api`;
    const found = () =>
      this.sent
        .slice(before)
        .find((m) => m.authorizerAppId === account.appId && m.touser === fan && m.content === want);
    const until = performance.now() + (opts.waitMs ?? 5_000);
    while (found() === undefined && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const answered = got.status === 200 && (got.body === '' || got.body === 'success');
    const sent = found() !== undefined;
    steps.push({
      name: 'api',
      passed: answered && sent,
      detail:
        `answered ${got.status} ${JSON.stringify(got.body.slice(0, 80))}` +
        (answered ? '' : ' (expected an empty answer or success)') +
        (sent
          ? '; customer-service message <code>_from_api sent'
          : '; no customer-service message <code>_from_api to the fan'),
    });
    return { passed: steps.every((s) => s.passed), authorizerAppId: account.appId, steps };
  }

  /**
   * `api_get_authorizer_list`: the authorized accounts in authorization order, `count` (1..500)
   * from `offset`, each with its current refresh token (one is minted for an authorization whose
   * code was never exchanged) and `auth_time`; revoked ones are not listed.
   */
  authorizerList(
    appId: string | undefined,
    componentToken: string | undefined,
    offset: unknown,
    count: unknown,
  ):
    | {
        total_count: number;
        list: { authorizer_appid: string; refresh_token?: string; auth_time: number }[];
      }
    | { errcode: number } {
    const gate = this.gate(appId, componentToken);
    if ('errcode' in gate) return gate;
    const okOffset = typeof offset === 'number' && Number.isInteger(offset) && offset >= 0;
    const okCount =
      typeof count === 'number' &&
      Number.isInteger(count) &&
      count >= 1 &&
      count <= AUTHORIZER_LIST_MAX;
    if (!okOffset || !okCount) return { errcode: 40097 };
    const live = [...gate.state.authorizers.values()].filter((a) => !a.revoked);
    const list = live.slice(offset, offset + count).map((a) => {
      const refresh = a.listsRefreshToken ? this.currentRefresh(a) : undefined;
      return {
        authorizer_appid: a.appId,
        ...(refresh === undefined ? {} : { refresh_token: refresh }),
        auth_time: a.authTime,
      };
    });
    return { total_count: live.length, list };
  }

  /**
   * `api_get_authorizer_info`: the account's `authorizer_info` (nick_name, user_name, …) and
   * `authorization_info` (func_info, the current refresh token); 61003 when not authorized.
   */
  authorizerInfo(
    appId: string | undefined,
    componentToken: string | undefined,
    authorizerAppId: string | undefined,
  ):
    | { authorizer_info: Record<string, unknown>; authorization_info: Record<string, unknown> }
    | { errcode: number } {
    const gate = this.gate(appId, componentToken);
    if ('errcode' in gate) return gate;
    if (authorizerAppId === undefined) return { errcode: 40097 };
    const auth = gate.state.authorizers.get(authorizerAppId);
    if (!auth || auth.revoked) return { errcode: 61003 };
    const refresh = this.currentRefresh(auth);
    return {
      authorizer_info: {
        nick_name: auth.nickName,
        head_img: `http://wx.qlogo.cn/mmopen/sim/${auth.appId}/0`,
        service_type_info: { id: 2 },
        verify_type_info: { id: 0 },
        user_name: auth.userName,
        alias: '',
        qrcode_url: `http://mmbiz.qpic.cn/mmbiz_jpg/sim/${auth.appId}/0`,
        business_info: { open_pay: 0, open_shake: 0, open_scan: 0, open_card: 0, open_store: 0 },
        principal_name: `Sim principal of ${auth.appId}`,
        signature: '',
        account_status: 1,
      },
      authorization_info: {
        authorizer_appid: auth.appId,
        ...(refresh === undefined ? {} : { authorizer_refresh_token: refresh }),
        func_info: FUNC_INFO,
      },
    };
  }

  /**
   * Fault control: the authorizer's refresh tokens stop working at once (61023) and a new one
   * replaces them, as when the hub lost the rotated one. `listed: false` also leaves
   * `refresh_token` out of its `api_get_authorizer_list` item, so nothing can recover it.
   * Returns the new refresh token. Throws for an unknown component or authorizer.
   */
  invalidateRefreshToken(
    appId: string,
    authorizerAppId: string,
    opts: { listed?: boolean } = {},
  ): string {
    const auth = this.mustGet(appId).authorizers.get(authorizerAppId);
    if (!auth || auth.revoked) throw new Error(`${authorizerAppId} is not authorized on ${appId}`);
    auth.refresh.clear();
    auth.listsRefreshToken = opts.listed ?? true;
    const refresh = this.currentRefresh(auth);
    if (refresh === undefined) throw new Error(`${authorizerAppId} has no API permissions`);
    return refresh;
  }

  /** True when `token` is a live authorizer access token of any authorizer. */
  isAuthorizerTokenValid(token: string): boolean {
    const now = this.clock.now();
    for (const state of this.components.values()) {
      for (const auth of state.authorizers.values()) {
        const expires = auth.tokens.get(token);
        if (expires !== undefined) return !auth.revoked && now < expires;
      }
    }
    return false;
  }

  /**
   * An authorizer token as a token-taking API judges it: the authorizer's appid, or 40001 for one
   * killed or revoked, 42001 for an expired one; undefined for a value that is no authorizer token.
   */
  checkAuthorizerToken(
    token: string | undefined,
  ): { ok: true; appId: string } | { ok: false; errcode: 40001 | 42001 } | undefined {
    const auth = token === undefined ? undefined : this.authorizerTokens.get(token);
    if (token === undefined || auth === undefined) return undefined;
    const expires = auth.tokens.get(token);
    if (expires === undefined || auth.revoked) return { ok: false, errcode: 40001 };
    if (this.clock.now() >= expires) return { ok: false, errcode: 42001 };
    return { ok: true, appId: auth.appId };
  }

  /** The authorizer an authorizer token was issued to, valid or not. */
  authorizerOf(token: string | undefined): string | undefined {
    return token === undefined ? undefined : this.authorizerTokens.get(token)?.appId;
  }

  /** True when `appId` was ever authorized on some component (it may be revoked since). */
  hasAuthorizer(appId: string): boolean {
    for (const state of this.components.values()) if (state.authorizers.has(appId)) return true;
    return false;
  }

  /**
   * Kills a component or authorizer token before its expiry, as a refresh elsewhere or a reset
   * by the account's admin would: it answers 40001 from then on. False for an unknown token.
   */
  killToken(token: string): boolean {
    for (const state of this.components.values()) if (state.tokens.delete(token)) return true;
    return this.authorizerTokens.get(token)?.tokens.delete(token) ?? false;
  }

  /**
   * A call a component makes for one of its authorizers with its component token
   * (`/sns/component/jscode2session`, `api_get_authorizer_option`): the component token's errcode,
   * or 61003 when `authorizerAppId` has not authorized (or revoked) this component.
   */
  forAuthorizer(
    appId: string | undefined,
    componentToken: string | undefined,
    authorizerAppId: string | undefined,
  ): { ok: true } | { errcode: number } {
    const gate = this.gate(appId, componentToken);
    if ('errcode' in gate) return gate;
    if (authorizerAppId === undefined) return { errcode: 41002 };
    const auth = gate.state.authorizers.get(authorizerAppId);
    if (!auth || auth.revoked) return { errcode: 61003 };
    return { ok: true };
  }

  /**
   * Mint a new ticket (it becomes the only one `api_component_token` accepts) and POST it to `url`
   * (default: the component's `eventUrl`) as WeChat does; without any URL the ticket is only kept.
   */
  async pushTicket(appId: string, url?: string): Promise<TicketPush> {
    const state = this.components.get(appId);
    if (!state) throw new Error(`unknown component ${appId}: register it first`);
    const now = this.clock.now();
    const createTime = Math.floor(now / 1000);
    const ticket = `ticket@@@${randomBytes(24).toString('base64url')}`;
    state.ticket = { value: ticket, createdAt: now };
    state.lastPushAt = now;
    const target = url ?? state.cfg.eventUrl;
    if (target === undefined) return { ticket, createTime };
    const xml =
      `<xml><AppId><![CDATA[${appId}]]></AppId><CreateTime>${createTime}</CreateTime>` +
      '<InfoType><![CDATA[component_verify_ticket]]></InfoType>' +
      `<ComponentVerifyTicket><![CDATA[${ticket}]]></ComponentVerifyTicket></xml>`;
    const res = await this.post(state.cfg, target, xml, createTime);
    return { ticket, createTime, status: res.status, body: await res.text() };
  }

  /**
   * Push a ticket for every component with an `eventUrl` whose last push is 10 minutes (sim time)
   * old or more. Returns how many were pushed; a hub that is down does not stop the others.
   */
  async pushDue(): Promise<number> {
    const now = this.clock.now();
    let pushed = 0;
    for (const state of this.components.values()) {
      if (state.cfg.eventUrl === undefined || state.pushesStopped) continue;
      if (state.lastPushAt !== undefined && now - state.lastPushAt < TICKET_PUSH_INTERVAL_MS) {
        continue;
      }
      try {
        await this.pushTicket(state.cfg.appId);
        pushed += 1;
      } catch {
        // WeChat retries on its next 10-minute slot; so does the simulator.
      }
    }
    return pushed;
  }

  /** Forget tickets, tokens, authorizers, codes, sent messages and push times (registrations stay). */
  reset(): void {
    this.sent.length = 0;
    for (const state of this.components.values()) {
      state.ticket = undefined;
      state.lastPushAt = undefined;
      state.pushesStopped = undefined;
      state.tokens.clear();
      state.authorizers.clear();
      state.codes.clear();
      state.preAuthCodes.clear();
      state.approvals = [];
    }
    this.authorizerTokens.clear();
  }

  private mustGet(appId: string): ComponentState {
    const state = this.components.get(appId);
    if (!state) throw new Error(`unknown component ${appId}: register it first`);
    return state;
  }

  /** The component and its live token, or WeChat's errcode for the component token. */
  private gate(
    appId: string | undefined,
    token: string | undefined,
  ): { state: ComponentState } | { errcode: number } {
    if (token === undefined) return { errcode: 41001 };
    if (appId === undefined) return { errcode: 41002 };
    const state = this.components.get(appId);
    if (!state) return { errcode: 40013 };
    const expires = state.tokens.get(token);
    if (expires === undefined) return { errcode: 40001 };
    if (this.clock.now() >= expires) return { errcode: 42001 };
    return { state };
  }

  /** The refresh token that does not expire, minted when an account with tokens has none. */
  private currentRefresh(auth: AuthorizerState): string | undefined {
    if (!auth.withTokens || auth.revoked) return undefined;
    for (const [value, expiry] of auth.refresh) {
      if (expiry === Number.POSITIVE_INFINITY) return value;
    }
    const refresh = `refreshtoken@@@${randomBytes(24).toString('base64url')}`;
    auth.refresh.set(refresh, Number.POSITIVE_INFINITY);
    return refresh;
  }

  private mintAuthorizerToken(auth: AuthorizerState): string {
    const token = `a_${newAccessToken()}`;
    const now = this.clock.now();
    for (const [value, expiry] of auth.tokens) if (expiry <= now) auth.tokens.delete(value);
    auth.tokens.set(token, now + TOKEN_TTL_MS);
    this.authorizerTokens.set(token, auth);
    return token;
  }

  /**
   * POST `plain` encrypted with the component's key, signed like every safe-mode push; the outer
   * XML names the component (`AppId`, auth events) or the account (`ToUserName`, messages).
   */
  private post(
    cfg: SimComponentConfig,
    url: string,
    plain: string,
    createTime: number,
    toUserName?: string,
  ): Promise<Response> {
    const encrypted = encryptForPush(cfg.encodingAesKey, plain, cfg.appId);
    const timestamp = String(createTime);
    const nonce = String(randomBytes(4).readUInt32BE(0));
    const sha1 = (...parts: string[]) =>
      createHash('sha1').update(parts.sort().join('')).digest('hex');
    const target = new URL(url);
    target.searchParams.set('signature', sha1(cfg.token, timestamp, nonce));
    target.searchParams.set('timestamp', timestamp);
    target.searchParams.set('nonce', nonce);
    target.searchParams.set('encrypt_type', 'aes');
    target.searchParams.set('msg_signature', sha1(cfg.token, timestamp, nonce, encrypted));
    const outer =
      toUserName === undefined
        ? `<AppId><![CDATA[${cfg.appId}]]></AppId>`
        : `<ToUserName><![CDATA[${toUserName}]]></ToUserName>`;
    const body = `<xml>${outer}<Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;
    return this.send(target.toString(), {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body,
    });
  }
}

/** `v` as an absolute http(s) URL, or undefined. */
function httpUrl(v: string | null): URL | undefined {
  if (v === null) return undefined;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined;
  } catch {
    return undefined;
  }
}

/**
 * WeChat's push encryption, written here independently of the hub's code so the simulator checks
 * it: AES-256-CBC, key = base64(EncodingAESKey + '='), IV = key[0:16], PKCS#7 to 32 bytes, layout
 * `random(16) | length (u32 BE) | message | appid`.
 */
export function encryptForPush(encodingAesKey: string, message: string, appId: string): string {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  const msg = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(msg.length, 0);
  const body = Buffer.concat([randomBytes(16), length, msg, Buffer.from(appId, 'utf8')]);
  const pad = 32 - (body.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([
    cipher.update(Buffer.concat([body, Buffer.alloc(pad, pad)])),
    cipher.final(),
  ]).toString('base64');
}

/** One XML element's text, with or without CDATA; undefined when absent. */
function xmlText(xml: string, name: string): string | undefined {
  const m = new RegExp(
    `<${name}>\\s*(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))\\s*</${name}>`,
  ).exec(xml);
  return m === null ? undefined : (m[1] ?? m[2]);
}

/**
 * A hub's encrypted passive reply to a component push, checked as WeChat does: `MsgSignature`
 * over the component token, `TimeStamp`, `Nonce` and `Encrypt`; AES with the component's key; the
 * trailing appid the component's. The reply's Content and user names, or what is wrong.
 */
export function openReply(
  cfg: SimComponentConfig,
  body: string,
): { content?: string; toUser?: string; fromUser?: string; error?: string } {
  const encrypted = xmlText(body, 'Encrypt');
  if (encrypted === undefined)
    return { error: `not an encrypted reply: ${JSON.stringify(body.slice(0, 80))}` };
  const parts = [
    cfg.token,
    xmlText(body, 'TimeStamp') ?? '',
    xmlText(body, 'Nonce') ?? '',
    encrypted,
  ];
  const sign = createHash('sha1').update(parts.sort().join('')).digest('hex');
  if (sign !== xmlText(body, 'MsgSignature')) return { error: 'MsgSignature does not match' };
  const key = Buffer.from(`${cfg.encodingAesKey}=`, 'base64');
  let message: string;
  let appId: string;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false);
    const padded = Buffer.concat([
      decipher.update(Buffer.from(encrypted, 'base64')),
      decipher.final(),
    ]);
    const plain = padded.subarray(0, padded.length - (padded[padded.length - 1] ?? 0));
    const length = plain.readUInt32BE(16);
    message = plain.subarray(20, 20 + length).toString('utf8');
    appId = plain.subarray(20 + length).toString('utf8');
  } catch {
    return { error: 'Encrypt does not decrypt with the component key' };
  }
  if (appId !== cfg.appId) {
    return { error: 'the reply is not encrypted for the component appid' };
  }
  return {
    ...(xmlText(message, 'Content') === undefined ? {} : { content: xmlText(message, 'Content') }),
    ...(xmlText(message, 'ToUserName') === undefined
      ? {}
      : { toUser: xmlText(message, 'ToUserName') }),
    ...(xmlText(message, 'FromUserName') === undefined
      ? {}
      : { fromUser: xmlText(message, 'FromUserName') }),
  };
}
