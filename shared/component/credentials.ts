import { AppError, WechatApiError } from '../http/errors';
import type { AppRecord } from '../store';
import {
  appOwner,
  guardedInvalidate,
  type InvalidateResult,
  type TicketType,
  ticketKind,
} from '../tokens/app-tokens';
import { AUTHORIZER_REFRESH_GUARD, COMPONENT_REFRESH_GUARD } from '../tokens/force-guard';
import type { Fetcher, ServedCredential, TokenManager } from '../tokens/manager';
import { getTicket, type Session } from '../wechat/credentials';
import { callWechatJson, WechatTransportError } from '../wechat/http';
import {
  AUTHORIZER_TOKEN_KIND,
  type AuthorizerDeps,
  assertAuthorizer,
  authorizerOwner,
  authorizerTokenFetcher,
} from './authorizers';
import {
  COMPONENT_TOKEN_KIND,
  type ComponentDeps,
  componentAccessToken,
  componentTokenFetcher,
} from './component';

/**
 * What a third-party platform serves besides its tokens: caller-reported refreshes of the
 * component and authorizer tokens, an authorizer's JS-SDK tickets (fetched with the authorizer's
 * token, https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Official_Accounts/js_sdk_instructions.html)
 * and a mini program authorizer's login (`/sns/component/jscode2session`,
 * https://developers.weixin.qq.com/doc/oplatform/openApi/miniprogram-management/login/api_thirdpartycode2session.html).
 * Every credential goes through the credential manager, as an app's does.
 */

export const COMPONENT_CODE2SESSION_PATH = '/sns/component/jscode2session';

/**
 * Compare-and-refresh of a component token a caller saw fail: `api_component_token` is called
 * only while `presented` is still the stored token, at most once per 30 s per component.
 */
export function invalidateComponentToken(
  deps: AuthorizerDeps,
  app: AppRecord,
  presented: string,
): Promise<InvalidateResult> {
  const key = { owner: appOwner(app), kind: COMPONENT_TOKEN_KIND };
  const fetcher = componentTokenFetcher(deps, app);
  return guardedInvalidate(deps, key, presented, {
    guard: COMPONENT_REFRESH_GUARD,
    refetch: () => fetcher(undefined),
    current: fetcher,
  });
}

/**
 * Compare-and-refresh of an authorizer token a caller saw fail (404/410 as its token route):
 * `api_authorizer_token` is called only while `presented` is still the stored token, at most
 * once per 30 s per authorizer.
 */
export async function invalidateAuthorizerToken(
  deps: AuthorizerDeps,
  app: AppRecord,
  authorizerAppId: string,
  presented: string,
): Promise<InvalidateResult> {
  await assertAuthorizer(deps, app, authorizerAppId);
  const key = { owner: authorizerOwner(app, authorizerAppId), kind: AUTHORIZER_TOKEN_KIND };
  const fetcher = authorizerTokenFetcher(deps, app, authorizerAppId);
  return guardedInvalidate(deps, key, presented, {
    guard: AUTHORIZER_REFRESH_GUARD,
    refetch: () => fetcher(undefined),
    current: fetcher,
  });
}

/** Fetches an authorizer's ticket with its current access token (the refresh pass uses it too). */
export function authorizerTicketFetcher(
  deps: ComponentDeps & { tokens: TokenManager },
  app: AppRecord,
  authorizerAppId: string,
  type: TicketType,
): Fetcher {
  return async () => {
    const key = { owner: authorizerOwner(app, authorizerAppId), kind: AUTHORIZER_TOKEN_KIND };
    const token = await deps.tokens.get(key, authorizerTokenFetcher(deps, app, authorizerAppId));
    return getTicket(deps.wechat, token.value, type);
  };
}

/**
 * Serves an authorizer's `jsapi` or `wx_card` ticket through the credential manager (one
 * `getticket` per ticket lifetime across instances); 404/410 as its token route.
 */
export async function authorizerTicket(
  deps: AuthorizerDeps,
  app: AppRecord,
  authorizerAppId: string,
  type: TicketType,
): Promise<ServedCredential> {
  await assertAuthorizer(deps, app, authorizerAppId);
  const key = { owner: authorizerOwner(app, authorizerAppId), kind: ticketKind(type) };
  return deps.tokens.get(key, authorizerTicketFetcher(deps, app, authorizerAppId, type));
}

/**
 * A mini program authorizer's `wx.login` code exchanged with the component token. 61003 (the
 * mini program has not authorized this component) is a 502 saying so; the authorizer is not
 * marked revoked here.
 */
export async function authorizerCode2Session(
  deps: AuthorizerDeps,
  app: AppRecord,
  authorizerAppId: string,
  code: string,
): Promise<Session> {
  await assertAuthorizer(deps, app, authorizerAppId);
  const component = await componentAccessToken(deps, app);
  let r: { openid?: unknown; unionid?: unknown; session_key?: unknown };
  try {
    r = await callWechatJson(deps.wechat, COMPONENT_CODE2SESSION_PATH, {
      appid: authorizerAppId,
      js_code: code,
      grant_type: 'authorization_code',
      component_appid: app.appId,
      component_access_token: component.value,
    });
  } catch (err) {
    if (err instanceof WechatApiError && err.errcode === 61003) {
      throw new AppError(
        'UPSTREAM_WECHAT',
        `WeChat errcode 61003: mini program ${authorizerAppId} has not authorized "${app.name}" (or no longer does); its admin must authorize it again`,
        { errcode: 61003 },
      );
    }
    throw err;
  }
  if (typeof r.openid !== 'string' || typeof r.session_key !== 'string') {
    throw new WechatTransportError(
      COMPONENT_CODE2SESSION_PATH,
      'answered without openid or session_key',
    );
  }
  return {
    openid: r.openid,
    sessionKey: r.session_key,
    ...(typeof r.unionid === 'string' ? { unionid: r.unionid } : {}),
  };
}
