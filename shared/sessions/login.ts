import { AppError } from '../http/errors';
import type { Deps } from '../platform/deps';
import type { AppRecord } from '../store';
import { unreadableError } from '../store/unreadable';
import { code2Session } from '../wechat/credentials';
import { miniProgramSecret, requireMiniProgram } from './mini-program';
import { decryptOpenData } from './open-data';
import { issueSessionToken } from './session-token';
import type { SessionSettings } from './settings';
import type { SigningKeys } from './signing-keys';

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
