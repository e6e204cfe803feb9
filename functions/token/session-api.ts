import * as v from 'valibot';
import type { ErrorCode } from '../../shared/http/errors';
import { declareRoute } from '../../shared/http/routes';
import {
  AppParams,
  isoTime,
  keyMessages,
  LoginBody,
  SECRET_ERRORS,
  text,
  WECHAT_ERRORS,
} from '../../shared/http/schemas';

/** Declarations of the login-session routes (docs/api.md, "Mini Program … user-facing routes"). */

const LoginAnswer = v.object({
  openid: v.string(),
  unionid: v.optional(text('present when the Mini Program is bound to an Open Platform account')),
  token: text('a JWT signed by the hub (ES256, `kid` in the header): verify it with the JWK set'),
  expiresAt: isoTime("the token's exp (ISO-8601 UTC)"),
});

const DECRYPT_MESSAGE = 'body must be JSON {"openid", "encryptedData", "iv"}';
const base64 = (max: number, message: string) =>
  v.pipe(
    v.string(message),
    v.maxLength(max, message),
    v.regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, message),
    v.nonEmpty(message),
  );
const DecryptBody = v.object(
  {
    openid: v.pipe(
      v.string('openid must be a string'),
      v.regex(/^[A-Za-z0-9_-]{1,128}$/, 'openid must be an openid'),
      v.description('the user, as `login` answered'),
    ),
    encryptedData: v.pipe(
      base64(65_536, 'encryptedData must be base64'),
      v.description('from the Mini Program (wx.getUserInfo, the old getPhoneNumber…)'),
    ),
    iv: v.pipe(
      base64(24, 'iv must be base64 of 16 bytes'),
      v.length(24, 'iv must be base64 of 16 bytes'),
      v.description('the iv that came with encryptedData'),
    ),
  },
  keyMessages(DECRYPT_MESSAGE, {
    openid: 'body openid is required',
    encryptedData: 'body encryptedData is required',
    iv: 'body iv is required',
  }),
);

const DecryptAnswer = v.looseObject({
  watermark: v.object({
    appid: text("the app's appid (checked)"),
    timestamp: v.pipe(v.number(), v.description('seconds since the epoch')),
  }),
});

const LOGIN_ERRORS: readonly ErrorCode[] = [
  'NOT_FOUND',
  'BAD_REQUEST',
  'CONFLICT',
  ...SECRET_ERRORS,
  ...WECHAT_ERRORS,
];

export const appLogin = declareRoute({
  method: 'POST',
  path: '/v1/apps/{app}/login',
  tag: 'tokens',
  summary: 'Log a Mini Program user in: a hub-signed session JWT',
  description:
    'Exchanges the wx.login code (code2Session) and keeps the session key sealed in the hub ' +
    '(replaced on each login); never answers it. The JWT carries `iss`, `aud` = the app name, ' +
    '`sub` = the openid, `iat`, `exp`, `jti`; verify it with `GET /.well-known/jwks.json`.',
  params: AppParams,
  body: LoginBody,
  responses: { 200: { description: 'the session token', schema: LoginAnswer } },
  errors: LOGIN_ERRORS,
});

export const appDecrypt = declareRoute({
  method: 'POST',
  path: '/v1/apps/{app}/decrypt',
  tag: 'tokens',
  summary: "Decrypt a Mini Program's encryptedData with the held session key",
  description:
    'AES-128-CBC, PKCS#7 checked, `watermark.appid` checked against the app and ' +
    '`watermark.timestamp` required. 409 `NO_SESSION` when the user never logged in through ' +
    '`login`; 400 `DECRYPT_FAILED` (altered, or from an older session) or `WATERMARK_MISMATCH`.',
  params: AppParams,
  body: DecryptBody,
  responses: { 200: { description: 'the decrypted JSON', schema: DecryptAnswer } },
  errors: [
    'NOT_FOUND',
    'BAD_REQUEST',
    'NO_SESSION',
    'DECRYPT_FAILED',
    'WATERMARK_MISMATCH',
    ...SECRET_ERRORS,
  ],
});

/** Every declaration of the session routes, in mount order. */
export const SESSION_ROUTES = [appLogin, appDecrypt];
