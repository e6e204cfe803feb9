import { AppError } from '../http/errors';
import type { Deps } from '../platform/deps';
import type { AppRecord } from '../store';
import { assertReadable } from '../store/unreadable';
import { code2Session, type Session } from '../wechat/credentials';

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
