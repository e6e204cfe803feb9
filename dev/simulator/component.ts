import { createCipheriv, createHash, randomBytes } from 'node:crypto';
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
 * (`api_authorizer_token`: rotates the refresh token, 61023 for one that is not valid).
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
}

/** Spacing of automatic ticket pushes (10 min). */
export const TICKET_PUSH_INTERVAL_MS = 10 * 60 * 1000;
/** How long a ticket is accepted (12 h). */
export const TICKET_TTL_MS = 12 * 60 * 60 * 1000;

/** How long an authorization code is accepted (1 h, as AuthorizationCodeExpiredTime says). */
export const AUTH_CODE_TTL_MS = 60 * 60 * 1000;
/** How long a rotated-out refresh token still works (about 5 min, per WeChat staff). */
export const REFRESH_GRACE_MS = 5 * 60 * 1000;

interface AuthorizerState {
  appId: string;
  /** Tokens are returned only when the account has API permissions. */
  withTokens: boolean;
  revoked: boolean;
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
}

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
}

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
    const now = this.clock.now();
    const prev = state.authorizers.get(authorizerAppId);
    state.authorizers.set(authorizerAppId, {
      appId: authorizerAppId,
      withTokens: opts.withTokens ?? true,
      revoked: false,
      refresh: prev?.refresh ?? new Map(),
      tokens: prev?.tokens ?? new Map(),
    });
    const code = `queryauthcode@@@${randomBytes(24).toString('base64url')}`;
    const expiresAt = now + AUTH_CODE_TTL_MS;
    state.codes.set(code, { authorizerAppId, expiresAt });
    const target = opts.url ?? state.cfg.eventUrl;
    if (target === undefined) return { code };
    const createTime = Math.floor(now / 1000);
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
  grant(appId: string, authorizerAppId: string, refreshToken: string): string {
    const state = this.mustGet(appId);
    state.authorizers.set(authorizerAppId, {
      appId: authorizerAppId,
      withTokens: true,
      revoked: false,
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
    const info: AuthorizationInfo = {
      authorizer_appid: auth.appId,
      func_info: [{ funcscope_category: { id: 1 } }, { funcscope_category: { id: 17 } }],
    };
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

  /** Forget tickets, tokens, authorizers, codes and push times (registrations stay). */
  reset(): void {
    for (const state of this.components.values()) {
      state.ticket = undefined;
      state.lastPushAt = undefined;
      state.pushesStopped = undefined;
      state.tokens.clear();
      state.authorizers.clear();
      state.codes.clear();
    }
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

  private mintAuthorizerToken(auth: AuthorizerState): string {
    const token = `a_${newAccessToken()}`;
    const now = this.clock.now();
    for (const [value, expiry] of auth.tokens) if (expiry <= now) auth.tokens.delete(value);
    auth.tokens.set(token, now + TOKEN_TTL_MS);
    return token;
  }

  /** POST `plain` encrypted with the component's key, signed like every safe-mode push. */
  private post(
    cfg: SimComponentConfig,
    url: string,
    plain: string,
    createTime: number,
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
    const body = `<xml><AppId><![CDATA[${cfg.appId}]]></AppId><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;
    return this.send(target.toString(), {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body,
    });
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
