import { AppError } from '../http/errors';
import type { AppRecord } from '../store';
import { assertReadable } from '../store/unreadable';

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
