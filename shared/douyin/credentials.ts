import type { IssuedCredential, Session } from '../wechat/credentials';
import type { WechatHttp } from '../wechat/http';
import { WechatTransportError } from '../wechat/http';
import { callDouyin } from './http';

/**
 * Douyin mini-program server APIs (host `developer.toutiao.com`), v2: JSON bodies, answers in
 * `{"err_no","err_tips","data"}`.
 */
export const DOUYIN_TOKEN_PATH = '/api/apps/v2/token';
export const DOUYIN_CODE2SESSION_PATH = '/api/apps/v2/jscode2session';

/**
 * `POST /api/apps/v2/token`: a new app token, valid 2 h. Each call issues a new one and cuts the
 * previous one's life to 5 minutes; only the newest two are ever valid
 * (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/interface-request-credential/non-user-authorization/get-access-token).
 */
export async function getDouyinAccessToken(
  http: WechatHttp,
  appId: string,
  secret: string,
): Promise<IssuedCredential> {
  const data = await callDouyin(http, DOUYIN_TOKEN_PATH, {
    appid: appId,
    secret,
    grant_type: 'client_credential',
  });
  const { access_token: value, expires_in: expiresIn } = data;
  if (
    typeof value !== 'string' ||
    value === '' ||
    typeof expiresIn !== 'number' ||
    expiresIn <= 0
  ) {
    throw new WechatTransportError(
      DOUYIN_TOKEN_PATH,
      'answered without access_token or expires_in',
    );
  }
  return { value, expiresIn };
}

/**
 * `POST /api/apps/v2/jscode2session`: a `tt.login` code exchanged for the user's openid,
 * unionid and session key; codes are single-use
 * (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/basic-abilities/log-in/code-2-session).
 */
export async function douyinCode2Session(
  http: WechatHttp,
  appId: string,
  secret: string,
  code: string,
): Promise<Session> {
  const data = await callDouyin(http, DOUYIN_CODE2SESSION_PATH, {
    appid: appId,
    secret,
    code,
    anonymous_code: '',
  });
  const { openid, session_key: sessionKey, unionid } = data;
  if (typeof openid !== 'string' || openid === '' || typeof sessionKey !== 'string') {
    throw new WechatTransportError(
      DOUYIN_CODE2SESSION_PATH,
      'answered without openid or session_key',
    );
  }
  return {
    openid,
    sessionKey,
    ...(typeof unionid === 'string' && unionid !== '' ? { unionid } : {}),
  };
}
