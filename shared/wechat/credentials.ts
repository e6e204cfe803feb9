import type { WechatHttp } from './http';
import { callWechatJson, WechatTransportError } from './http';

export const TOKEN_PATH = '/cgi-bin/token';
export const STABLE_TOKEN_PATH = '/cgi-bin/stable_token';
export const TICKET_PATH = '/cgi-bin/ticket/getticket';
export const CODE2SESSION_PATH = '/sns/jscode2session';
export const COMPONENT_TOKEN_PATH = '/cgi-bin/component/api_component_token';

/** A credential as WeChat returns it; `expiresIn` in seconds, never assumed. */
export interface IssuedCredential {
  value: string;
  expiresIn: number;
}

function issued(api: string, value: unknown, expiresIn: unknown): IssuedCredential {
  if (
    typeof value !== 'string' ||
    value === '' ||
    typeof expiresIn !== 'number' ||
    expiresIn <= 0
  ) {
    throw new WechatTransportError(api, 'answered without a credential or expires_in');
  }
  return { value, expiresIn };
}

/** `GET /cgi-bin/token`: every call issues a new token; the previous one dies five minutes later. */
export async function getAccessToken(
  http: WechatHttp,
  appId: string,
  secret: string,
): Promise<IssuedCredential> {
  const r = await callWechatJson<{ access_token?: unknown; expires_in?: unknown }>(
    http,
    TOKEN_PATH,
    { grant_type: 'client_credential', appid: appId, secret },
  );
  return issued(TOKEN_PATH, r.access_token, r.expires_in);
}

/**
 * `POST /cgi-bin/stable_token`: normal mode returns the same token until its last five minutes;
 * `forceRefresh` replaces it (20 a day, 30 s apart).
 */
export async function getStableAccessToken(
  http: WechatHttp,
  appId: string,
  secret: string,
  forceRefresh: boolean,
): Promise<IssuedCredential> {
  const r = await callWechatJson<{ access_token?: unknown; expires_in?: unknown }>(
    http,
    STABLE_TOKEN_PATH,
    {},
    {
      method: 'POST',
      json: { grant_type: 'client_credential', appid: appId, secret, force_refresh: forceRefresh },
    },
  );
  return issued(STABLE_TOKEN_PATH, r.access_token, r.expires_in);
}

/**
 * `POST /cgi-bin/component/api_component_token`: a third-party platform's token, from its
 * AppSecret and the latest `component_verify_ticket`
 * (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/component_access_token.html).
 */
export async function getComponentAccessToken(
  http: WechatHttp,
  componentAppId: string,
  componentSecret: string,
  ticket: string,
): Promise<IssuedCredential> {
  const r = await callWechatJson<{ component_access_token?: unknown; expires_in?: unknown }>(
    http,
    COMPONENT_TOKEN_PATH,
    {},
    {
      method: 'POST',
      json: {
        component_appid: componentAppId,
        component_appsecret: componentSecret,
        component_verify_ticket: ticket,
      },
    },
  );
  return issued(COMPONENT_TOKEN_PATH, r.component_access_token, r.expires_in);
}

/** `GET /cgi-bin/ticket/getticket` for `jsapi` or `wx_card`. */
export async function getTicket(
  http: WechatHttp,
  accessToken: string,
  type: 'jsapi' | 'wx_card',
): Promise<IssuedCredential> {
  const r = await callWechatJson<{ ticket?: unknown; expires_in?: unknown }>(http, TICKET_PATH, {
    access_token: accessToken,
    type,
  });
  return issued(TICKET_PATH, r.ticket, r.expires_in);
}

export interface Session {
  openid: string;
  unionid?: string;
  sessionKey: string;
}

/** `GET /sns/jscode2session` (mini programs): exchanges a login code for the session. */
export async function code2Session(
  http: WechatHttp,
  appId: string,
  secret: string,
  code: string,
): Promise<Session> {
  const r = await callWechatJson<{ openid?: unknown; unionid?: unknown; session_key?: unknown }>(
    http,
    CODE2SESSION_PATH,
    { appid: appId, secret, js_code: code, grant_type: 'authorization_code' },
  );
  if (typeof r.openid !== 'string' || typeof r.session_key !== 'string') {
    throw new WechatTransportError(CODE2SESSION_PATH, 'answered without openid or session_key');
  }
  return {
    openid: r.openid,
    sessionKey: r.session_key,
    ...(typeof r.unionid === 'string' ? { unionid: r.unionid } : {}),
  };
}
