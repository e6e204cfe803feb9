import type { HubAnswer } from '../callbacks/receive';
import { describe } from '../http/app';
import { AppError } from '../http/errors';
import type { AppRecord } from '../store';
import { callWechatJson } from '../wechat/http';
import { type AuthorizerDeps, QUERY_AUTH_PATH } from './authorizers';
import { withComponentToken } from './component';

/**
 * A third-party platform's message-and-event URL (消息与事件接收URL), configured in WeChat as
 * `https://host/wx/{app}/component/message/$APPID$`: WeChat puts the authorizer's appid in place
 * of `$APPID$` and sends that account's messages and events there, in safe mode with the
 * platform's Token and EncodingAESKey, the decrypted message ending in the platform's own appid
 * (`$APPID$`: https://developers.weixin.qq.com/community/develop/doc/000c02756f80d08c8c383736751800).
 */

/** An authorizer appid in the URL: `wx` and letters or digits (WeChat's are `wx` + 16 hex). */
const AUTHORIZER_APPID = /^wx[0-9A-Za-z]{6,30}$/;

/**
 * The authorizer appid of a message-URL request; 404 for a malformed one (an unsubstituted
 * `$APPID$` too) and for an app that is not a third-party platform (the route is only theirs).
 */
export function requireMessageUrl(app: AppRecord, appid: string): string {
  if (app.kind !== 'component') {
    throw new AppError('NOT_FOUND', `app "${app.name}" is not a third-party platform`);
  }
  if (!AUTHORIZER_APPID.test(appid)) {
    throw new AppError('NOT_FOUND', 'the authorizer appid in the URL is not an appid');
  }
  return appid;
}

/**
 * WeChat's full-network release test (全网发布接入检测):
 * https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/operation/thirdparty/releases_instructions.html
 * Before a platform may be released, WeChat authorizes dedicated test accounts to it and sends
 * their messages to the message URL; the platform must answer them as the page describes. The
 * test accounts (5 groups, one official account and one mini program each; WeChat picks one):
 */
export const RELEASE_TEST_APPIDS: ReadonlySet<string> = new Set([
  // Official accounts
  'wx570bc396a51b8ff8',
  'wx9252c5e0bb1836fc',
  'wx8e1097c5bc82cde9',
  'wx14550af28c71a144',
  'wxa35b9c23cfe664eb',
  // Mini programs
  'wxd101a85aa106f53e',
  'wxc39235c15087f6f3',
  'wx7720d01d4b2a4500',
  'wx05d483572dcd5d8b',
  'wx5910277cae6fd970',
]);

export const RELEASE_TEXT = 'TESTCOMPONENT_MSG_TYPE_TEXT';
export const QUERY_AUTH_PREFIX = 'QUERY_AUTH_CODE:';
export const CUSTOM_SEND_PATH = '/cgi-bin/message/custom/send';

export const isReleaseTestAccount = (appid: string) => RELEASE_TEST_APPIDS.has(appid.toLowerCase());

/**
 * The hub's answer to the release test's pushes, so the test passes with no forward target:
 * - text `TESTCOMPONENT_MSG_TYPE_TEXT` → passive reply text `TESTCOMPONENT_MSG_TYPE_TEXT_callback`;
 * - text `QUERY_AUTH_CODE:$query_auth_code$` → an empty answer at once ("返回空串表明暂时不回复"),
 *   then the code is exchanged with `api_query_auth` and `$query_auth_code$_from_api` is sent to
 *   the fan through the customer-service API with the authorizer token of that exchange;
 * - an event → passive reply text `<Event>from_callback` (the test's older event case).
 * Anything else, and every other authorizer, is left to the forward rules.
 */
export function releaseTestAnswer(
  deps: AuthorizerDeps,
  app: AppRecord,
  authorizerAppId: string,
  fields: Record<string, unknown>,
): HubAnswer | undefined {
  if (!isReleaseTestAccount(authorizerAppId)) return undefined;
  const text = (reply: string) => ({ reply: { MsgType: 'text', Content: reply } });
  if (fields.MsgType === 'event' && typeof fields.Event === 'string' && fields.Event !== '') {
    return text(`${fields.Event}from_callback`);
  }
  if (fields.MsgType !== 'text' || typeof fields.Content !== 'string') return undefined;
  if (fields.Content === RELEASE_TEXT) return text(`${RELEASE_TEXT}_callback`);
  const fan = fields.FromUserName;
  if (!fields.Content.startsWith(QUERY_AUTH_PREFIX) || typeof fan !== 'string') return undefined;
  const code = fields.Content.slice(QUERY_AUTH_PREFIX.length).trim();
  if (code === '') return undefined;
  return { body: '', after: () => replyFromApi(deps, app, authorizerAppId, code, fan) };
}

/**
 * The release test's customer-service case, before the (empty) answer: `api_query_auth` with the code,
 * then `custom/send` with the authorizer token it returned. Nothing is stored (a real
 * authorizer's tokens are never replaced by this exchange); the outcome is logged, never the
 * code or a token.
 */
async function replyFromApi(
  deps: AuthorizerDeps,
  app: AppRecord,
  authorizerAppId: string,
  code: string,
  fan: string,
): Promise<void> {
  const line = { app: app.name, authorizer: authorizerAppId };
  try {
    const auth = await withComponentToken(deps, app, (componentToken) =>
      callWechatJson<{
        authorization_info?: { authorizer_access_token?: unknown };
      }>(
        deps.wechat,
        QUERY_AUTH_PATH,
        { component_access_token: componentToken },
        { method: 'POST', json: { component_appid: app.appId, authorization_code: code } },
      ),
    );
    const token = auth.authorization_info?.authorizer_access_token;
    if (typeof token !== 'string' || token === '') {
      deps.log.error(line, 'release test: api_query_auth returned no authorizer token');
      return;
    }
    await callWechatJson(
      deps.wechat,
      CUSTOM_SEND_PATH,
      { access_token: token },
      {
        method: 'POST',
        json: { touser: fan, msgtype: 'text', text: { content: `${code}_from_api` } },
      },
    );
    deps.log.info(line, 'release test: customer-service message sent');
  } catch (err) {
    deps.log.error(
      { ...line, err: describe(err) },
      'release test: customer-service message not sent',
    );
  }
}
