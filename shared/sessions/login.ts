import { AppError } from '../http/errors';
import type { Deps } from '../platform/deps';
import type { AppRecord } from '../store';
import { assertReadable, unreadableError } from '../store/unreadable';
import { code2Session, type Session } from '../wechat/credentials';
import { decryptOpenData } from './open-data';
import { issueSessionToken } from './session-token';
import type { SessionSettings } from './settings';
import type { SigningKeys } from './signing-keys';

/** Refuses an app that is not a Mini Program (400); `what` names the route. */
export function requireMiniProgram(app: AppRecord, what: string): void {
  if (app.kind !== 'miniprogram') {
    throw new AppError(
      'BAD_REQUEST',
      `app "${app.name}" is a ${app.kind} app; ${what} is for miniprogram apps`,
    );
  }
}

/** A Mini Program's AppSecret, for `jscode2session`; 400, 409 or 503 when there is none to use. */
export function miniProgramSecret(app: AppRecord, what: string): string {
  requireMiniProgram(app, what);
  assertReadable(app, 'apps.app_secret');
  if (app.appSecret === undefined) {
    throw new AppError('CONFLICT', `app "${app.name}" has no appSecret configured`);
  }
  return app.appSecret;
}

/**
 * `POST /v1/apps/{app}/code2session`: a Mini Program's `wx.login` code (jscode2session), or a
 * Douyin mini program's `tt.login` code (v2 jscode2session), exchanged for the user's session.
 */
export async function exchangeLoginCode(
  deps: Pick<Deps, 'wechat' | 'douyin'>,
  app: AppRecord,
  code: string,
): Promise<Session> {
  if (app.kind !== 'douyin') {
    return code2Session(deps.wechat, app.appId, miniProgramSecret(app, 'code2session'), code);
  }
  assertReadable(app, 'apps.app_secret');
  if (app.appSecret === undefined) {
    throw new AppError('CONFLICT', `app "${app.name}" has no appSecret configured`);
  }
  // Loaded on the first Douyin request only (LAZY_FILES).
  const douyin = await import('../douyin');
  return douyin.douyinCode2Session(deps.douyin, app.appId, app.appSecret, code);
}

export interface LoginAnswer {
  openid: string;
  unionid?: string;
  token: string;
  /** ISO-8601 UTC of the token's `exp`. */
  expiresAt: string;
}

/** What {@link login} and {@link decryptForUser} need besides the process's {@link Deps}. */
export interface SessionParts {
  keys: SigningKeys;
  settings: SessionSettings;
}

/**
 * `POST /v1/apps/{app}/login`: exchanges the `wx.login` code (code2Session), keeps the session
 * key sealed for (app, openid), replacing the one held before, and answers a hub-signed JWT.
 * The session key is never answered.
 */
export async function login(
  deps: Deps,
  parts: SessionParts,
  app: AppRecord,
  code: string,
): Promise<LoginAnswer> {
  const secret = miniProgramSecret(app, 'login');
  const session = await code2Session(deps.wechat, app.appId, secret, code);
  await deps.store.loginSessions.save(
    app.name,
    session.openid,
    session.sessionKey,
    deps.clock.now(),
  );
  const issued = await issueSessionToken(
    parts.keys,
    deps.clock,
    parts.settings,
    app.name,
    session.openid,
  );
  return {
    openid: session.openid,
    ...(session.unionid === undefined ? {} : { unionid: session.unionid }),
    token: issued.token,
    expiresAt: new Date(issued.expiresAt).toISOString(),
  };
}

/**
 * `POST /v1/apps/{app}/decrypt`: the user's open data decrypted with the session key the hub
 * holds for them ({@link decryptOpenData}); 409 `NO_SESSION` when it holds none.
 */
export async function decryptForUser(
  deps: Deps,
  app: AppRecord,
  input: { openid: string; encryptedData: string; iv: string },
): Promise<Record<string, unknown>> {
  requireMiniProgram(app, 'decrypt');
  const held = await deps.store.loginSessions.get(app.name, input.openid);
  if (held === undefined) {
    throw new AppError(
      'NO_SESSION',
      `no session key is held for this openid of app "${app.name}": log in first`,
    );
  }
  if ('unreadable' in held) throw unreadableError(held.unreadable);
  return decryptOpenData(held.sessionKey, input.encryptedData, input.iv, app.appId);
}
