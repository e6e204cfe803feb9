import {
  type CallbackAnswer,
  type CallbackDeps,
  type CallbackQuery,
  receivePush,
  verifyWecomUrl,
} from '../callbacks/receive';
import { CODE_REDACTED, TICKET_REDACTED } from '../component/component';
import { AppError } from '../http/errors';
import type { AppRecord } from '../store';
import { type CorpDeps, cancelCorp, checkCorpId, exchangeAuthCode, keepPendingCode } from './corps';
import { keepSuiteTicket, requireSuite } from './suite';

/**
 * A suite's two callback URLs (https://developer.work.weixin.qq.com/document/path/90642): the
 * command URL (指令回调: `suite_ticket`, `create_auth`, `change_auth`, `cancel_auth`; ReceiveId
 * the suite id) and the data URL (数据回调: the corps' messages and events; ReceiveId the corp's
 * corpid). URL verification of both decrypts `echostr` with the provider's corpid
 * (https://developer.work.weixin.qq.com/document/path/91144). Every push goes through the
 * callback store and outbox: stored, deduplicated, forwarded.
 */

export type SuiteCallbackDeps = CallbackDeps & CorpDeps;

/** The provider corpid of a suite (409 when missing: the app predates the field). */
function providerCorpId(app: AppRecord): string {
  requireSuite(app);
  if (app.providerCorpId === undefined) {
    throw new AppError('CONFLICT', `suite "${app.name}" has no providerCorpId configured`);
  }
  return app.providerCorpId;
}

/** GET verification of the command URL or a data URL: the decrypted `echostr`. */
export function verifySuiteUrl(
  deps: SuiteCallbackDeps,
  app: AppRecord,
  q: CallbackQuery,
  route: 'suite-command' | 'suite-data',
): string {
  return verifyWecomUrl(deps, app, q, route, providerCorpId(app));
}

/** The stored and forwarded copy of a command: the ticket and auth code left out. */
const redactCommand = (fields: Record<string, unknown>): Record<string, unknown> => {
  let out = fields;
  if (fields.SuiteTicket !== undefined) out = { ...out, SuiteTicket: TICKET_REDACTED };
  if (fields.AuthCode !== undefined) out = { ...out, AuthCode: CODE_REDACTED };
  return out;
};

/**
 * A command push: stored (ticket and code redacted) and acted on before `success` is answered,
 * within WeCom's 1-second rule: a ticket kept (newest wins), a `create_auth` code kept sealed,
 * a `cancel_auth` applied. The code's exchange is returned, to run once the answer is out (or,
 * if this instance stops first, by the next refresh pass).
 */
export async function receiveCommand(
  deps: SuiteCallbackDeps,
  app: AppRecord,
  q: CallbackQuery,
  body: string,
): Promise<{ answer: CallbackAnswer; after?: () => Promise<void> }> {
  const provider = providerCorpId(app);
  let code: string | undefined;
  const answer = await receivePush(deps, app, q, body, undefined, {
    route: 'suite-command',
    // The suite id; an envelope once seen with the provider corpid is taken too (both are ours).
    receiveIds: [app.appId, provider],
    redact: redactCommand,
    afterStore: async (opened) => {
      const f = opened.inner.fields;
      try {
        if (f.InfoType === 'suite_ticket') {
          await keepSuiteTicket(deps.store, app, f, deps.clock.now());
        } else if (f.InfoType === 'create_auth' && typeof f.AuthCode === 'string') {
          await keepPendingCode(deps, app, f.AuthCode);
          code = f.AuthCode;
        } else if (f.InfoType === 'cancel_auth' && typeof f.AuthCorpId === 'string') {
          await cancelCorp(deps, app, checkCorpId(f.AuthCorpId));
        }
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError('UNAVAILABLE', 'the command could not be stored; WeCom will retry');
      }
    },
  });
  const pending = code;
  if (pending === undefined) return { answer };
  return {
    answer,
    after: async () => {
      try {
        await exchangeAuthCode(deps, app, pending, 'push');
      } catch (err) {
        deps.log.warn(
          { app: app.name, error: err instanceof Error ? err.message : 'failed' },
          'auth_code exchange failed; retried by the refresh pass',
        );
      }
    },
  };
}

/** A data push of corp `corpId`: as any push, the corp as its authorizer (dedup, forwards). */
export function receiveData(
  deps: SuiteCallbackDeps,
  app: AppRecord,
  corpId: string,
  q: CallbackQuery,
  body: string,
): Promise<CallbackAnswer> {
  providerCorpId(app);
  checkCorpId(corpId);
  return receivePush(deps, app, q, body, undefined, {
    route: 'suite-data',
    receiveIds: [corpId],
    authorizerAppId: corpId,
  });
}
