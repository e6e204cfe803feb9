/**
 * Douyin (Toutiao) mini programs: tokens, code2session and the proxy's token rules. Loaded with
 * `await import()` on the first request for a `douyin` app (LAZY_FILES in scripts/build-lib.ts):
 * the WeChat paths never load it.
 */
export {
  DOUYIN_CODE2SESSION_PATH,
  DOUYIN_TOKEN_PATH,
  douyinCode2Session,
  getDouyinAccessToken,
} from './credentials';
export { douyinError } from './http';
export {
  DOUYIN_TOKEN_ERR_NOS,
  DOUYIN_TOKEN_HEADER,
  douyinBodyWithToken,
  isDeadDouyinToken,
} from './proxy';
