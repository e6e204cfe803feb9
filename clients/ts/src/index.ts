export type {
  AccessToken,
  InvalidatedToken,
  JssdkConfig,
  WxhubClient,
  WxhubClientOptions,
} from './client.js';
export { createClient, DEAD_TOKEN_ERRCODES, hasDeadTokenErrcode } from './client.js';
export { WxhubError } from './errors.js';
export type { components, paths } from './schema.js';
export type { VerifiedSession, VerifySessionOptions } from './session.js';
export { SESSION_ALG, SESSION_TYP, verifySession } from './session.js';
