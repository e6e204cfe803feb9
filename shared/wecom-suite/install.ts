import { createHash, randomBytes } from 'node:crypto';
import { AppError, WechatApiError } from '../http/errors';
import type { AppRecord } from '../store';
import { callWechatJson, WechatTransportError } from '../wechat/http';
import { assertCorp, type CorpDeps, exchangeAuthCode } from './corps';
import { requireSuite, type SuiteDeps, withSuiteToken } from './suite';

/**
 * Installing a suite from the provider's site: a pre-auth code
 * (https://developer.work.weixin.qq.com/document/path/90601), its session set with
 * `set_session_info` (https://developer.work.weixin.qq.com/document/path/90602), then WeCom's
 * install page `https://open.work.weixin.qq.com/3rdapp/install?suite_id&pre_auth_code&redirect_uri&state`
 * (https://developer.work.weixin.qq.com/document/path/90597), which sends the browser back to the
 * hub's `/wx/{app}/suite/installed?auth_code&state`. The hub's `state` (32 letters and digits,
 * within WeCom's 128 `[a-zA-Z0-9]`) keys the caller's `redirect` and `state`, single use.
 */

export const PRE_AUTH_CODE_PATH = '/cgi-bin/service/get_pre_auth_code';
export const SESSION_INFO_PATH = '/cgi-bin/service/set_session_info';
export const INSTALL_PAGE = 'https://open.work.weixin.qq.com/3rdapp/install';
/** The OAuth-state rows' scope for install states (one table, one purge). */
const INSTALL_SCOPE = 'wecom-suite-install';
/** The caller's own state: passed back as it was given (letters, digits, `-_.~`, ≤ 128). */
const CALLER_STATE = /^[A-Za-z0-9._~-]{0,128}$/;
const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/** `auth_type` of `set_session_info`: 0 formal (default), 1 test (an unreleased suite). */
export type InstallAuthType = 0 | 1;

/** The caller's `redirect` (https; http only on this machine) and `state`; 400 otherwise. */
export function installRequest(q: {
  redirect?: string | undefined;
  state?: string | undefined;
  authType?: string | undefined;
}): { redirect: string; state: string; authType: InstallAuthType } {
  let u: URL;
  try {
    u = new URL(q.redirect ?? '');
  } catch {
    throw new AppError('BAD_REQUEST', 'redirect must be an absolute URL');
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  if (!(u.protocol === 'https:' || (u.protocol === 'http:' && local))) {
    throw new AppError('BAD_REQUEST', 'redirect must be an https URL (http only for localhost)');
  }
  if (u.username !== '' || u.password !== '') {
    throw new AppError('BAD_REQUEST', 'redirect must not carry user:password@');
  }
  const state = q.state ?? '';
  if (!CALLER_STATE.test(state)) {
    throw new AppError('BAD_REQUEST', 'state must be at most 128 letters, digits or -_.~');
  }
  const t = q.authType ?? '0';
  if (t !== '0' && t !== '1') throw new AppError('BAD_REQUEST', 'authType must be 0 or 1');
  return { redirect: u.toString(), state, authType: t === '1' ? 1 : 0 };
}

/** A fresh pre-auth code (20 minutes) with its session set to `authType`. */
async function preAuthCode(
  deps: SuiteDeps,
  app: AppRecord,
  authType: InstallAuthType,
): Promise<{ code: string; expiresAt: number }> {
  return withSuiteToken(deps, app, async (suiteToken) => {
    const r = await callWechatJson<{ pre_auth_code?: unknown; expires_in?: unknown }>(
      deps.wecom,
      PRE_AUTH_CODE_PATH,
      { suite_access_token: suiteToken },
    );
    if (typeof r.pre_auth_code !== 'string' || r.pre_auth_code === '') {
      throw new WechatTransportError(PRE_AUTH_CODE_PATH, 'answered without pre_auth_code');
    }
    await callWechatJson(
      deps.wecom,
      SESSION_INFO_PATH,
      { suite_access_token: suiteToken },
      {
        method: 'POST',
        json: { pre_auth_code: r.pre_auth_code, session_info: { auth_type: authType } },
      },
    );
    const expiresIn = typeof r.expires_in === 'number' && r.expires_in > 0 ? r.expires_in : 1200;
    return { code: r.pre_auth_code, expiresAt: deps.clock.now() + expiresIn * 1000 };
  });
}

/** This hub's `redirect_uri` for suite `app`. */
export const installedUri = (base: string, app: AppRecord) =>
  `${base}/wx/${app.name}/suite/installed`;

/**
 * The install page URL (fresh pre-auth code, session set) and when it stops working; the
 * caller's redirect and state are kept (single use) under a fresh hub state.
 */
export async function installUrl(
  deps: CorpDeps,
  app: AppRecord,
  req: { redirect: string; state: string; authType: InstallAuthType },
  base: string,
): Promise<{ url: string; expiresAt: number }> {
  requireSuite(app);
  const pre = await preAuthCode(deps, app, req.authType);
  const hubState = randomBytes(24)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 32);
  const next = new URL(req.redirect);
  next.searchParams.set('state', req.state);
  await deps.store.oauth.putState(
    sha256(hubState),
    { app: app.name, scope: INSTALL_SCOPE, redirect: next.toString(), expiresAt: pre.expiresAt },
    deps.clock.now(),
  );
  const params = new URLSearchParams({
    suite_id: app.appId,
    pre_auth_code: pre.code,
    redirect_uri: installedUri(base, app),
    state: hubState,
  });
  return { url: `${INSTALL_PAGE}?${params.toString()}`, expiresAt: pre.expiresAt };
}

/**
 * WeCom's redirect: the hub state taken (single use; 400 unknown or expired, nothing
 * exchanged), the code exchanged once (with the `create_auth` push, if any), and where the
 * browser goes: the caller's `redirect?state=…&corpid=…`; undefined for a reload (state used).
 */
export async function completeInstall(
  deps: CorpDeps,
  app: AppRecord,
  q: { auth_code?: string | undefined; state?: string | undefined },
): Promise<{ corpId: string; next: string | undefined }> {
  requireSuite(app);
  const raw = q.state ?? '';
  if (!/^[A-Za-z0-9]{1,128}$/.test(raw)) throw new AppError('BAD_REQUEST', 'state is missing');
  const taken = await deps.store.oauth.takeState(sha256(raw), app.name, deps.clock.now());
  if (taken.outcome !== 'taken' && taken.outcome !== 'used') {
    throw new AppError('BAD_REQUEST', 'this install link is unknown or expired; start again');
  }
  let corpId: string;
  try {
    const r = await exchangeAuthCode(deps, app, q.auth_code ?? '', 'redirect');
    if (r.outcome === 'busy') throw new AppError('UNAVAILABLE', 'the installation is busy');
    corpId = r.corpId;
  } catch (err) {
    if (err instanceof WechatApiError && err.errcode === 40078) {
      throw new AppError('BAD_REQUEST', 'this auth_code is invalid or expired; install again');
    }
    throw err;
  }
  await assertCorp(deps, app, corpId);
  if (taken.outcome !== 'taken') return { corpId, next: undefined };
  const next = new URL(taken.record.redirect);
  next.searchParams.set('corpid', corpId);
  return { corpId, next: next.toString() };
}
