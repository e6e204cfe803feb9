import type { Config } from '../config';
import { describe } from '../http/app';
import { AppError } from '../http/errors';
import { type AppRecord, SignatureReplayError } from '../store';
import { stringifyExactJson } from '../wechat/exact-json';
import { type CountStored, countedCallback } from './counted';
import {
  attemptNow,
  type MadeAttempt,
  type OutboxDeps,
  receiverDeliveries,
  settleAll,
  targetRules,
} from './forward';
import { authorizerDedupKey, dedupKey, type PushSummary, summarize } from './message';
import { answerType, encryptReply, renderReply, replyOf } from './reply';
import {
  alwaysEncrypted,
  type CallbackQuery,
  type OpenedPush,
  openCloudRunPush,
  openSignedPush,
  type PushRoute,
  requireCallbackKind,
  usedSignature,
} from './verify';

export type { CallbackQuery } from './verify';
export { verifyServer, verifyWecomUrl } from './verify';

export interface CallbackDeps extends OutboxDeps {
  config: Pick<
    Config,
    'callbackMaxSkewSeconds' | 'forwardBudgetMs' | 'outboxMaxAttempts' | 'trustWxSource'
  >;
}

/** What the route sends back to WeChat. */
export interface CallbackAnswer {
  status: number;
  body: string;
  contentType: string;
}

const SUCCESS: CallbackAnswer = {
  status: 200,
  body: 'success',
  contentType: answerType('success'),
};
const answer = (body: string): CallbackAnswer => ({
  status: 200,
  body,
  contentType: answerType(body),
});

/** What a route adds to {@link receivePush}. */
export interface PushOptions {
  /** Which route is asked (decides the app kinds allowed); default `callback`. */
  route?: PushRoute;
  /**
   * Acts on the opened push once it is stored (first delivery and WeChat's retries alike, so it
   * must be idempotent), before anything is answered; a throw answers 503 and WeChat retries.
   */
  afterStore?: (opened: OpenedPush) => Promise<void>;
  /**
   * The fields to store and forward, when some must not be kept in the clear (e.g. a ticket the
   * route keeps sealed as a credential); matching and `afterStore` see the message as received.
   */
  redact?: (fields: Record<string, unknown>) => Record<string, unknown>;
  /**
   * A third-party platform's message URL: the authorizer the push is for (`{appid}` of the URL).
   * It is stored with the message, sent in the forwarded payload (`authorizerAppId`), scopes the
   * dedup key, and forward rules match it as the field `AuthorizerAppid`.
   */
  authorizerAppId?: string;
  /**
   * The hub's own answer to some pushes (e.g. WeChat's full-network release test): when it
   * returns one, that is the answer (no forward target is waited for; matching rules still get
   * their deliveries, through the outbox timer).
   */
  answer?: (opened: OpenedPush) => HubAnswer | undefined;
  /**
   * The ReceiveIds the ciphertext may carry, tried in order (default: the app's appId). WeCom
   * routes name theirs: the suite id on a suite's command URL, the corpid on its data URL.
   */
  receiveIds?: readonly string[];
}

/** What the hub answers itself (see {@link PushOptions.answer}). */
export interface HubAnswer {
  /** A passive reply, rendered in the push's format and encrypted when the push was. */
  reply?: Record<string, unknown>;
  /** Without `reply`: the plain answer (default `success`; WeChat also takes an empty one). */
  body?: string;
  /**
   * Work done once the first delivery is stored, before answering, for at most the forwarding
   * budget (then left running): it must log its own outcome; a throw is logged too. Never run
   * for WeChat's retries.
   */
  after?: () => Promise<void>;
}

/**
 * A message push (POST): verified, opened, committed with its deliveries, forwarded within the
 * budget, then answered with `success` or the first target's passive reply (encrypted when the
 * push was). A retry of a stored push is answered with the first answer and stored nothing.
 *
 * @param wxSource the `x-wx-source` / `x-wx-sources` header, if any
 */
export async function receivePush(
  deps: CallbackDeps,
  app: AppRecord,
  q: CallbackQuery,
  body: string,
  wxSource: string | undefined,
  opts: PushOptions = {},
): Promise<CallbackAnswer> {
  // WeCom's pushes (self-built apps and suites) count as `wecom`.
  const platform = app.kind === 'wecom' || app.kind === 'wecom-suite' ? 'wecom' : 'wechat';
  return countedCallback(deps, platform, (count) =>
    receiveOnce(deps, app, q, body, wxSource, opts, count),
  );
}

async function receiveOnce(
  deps: CallbackDeps,
  app: AppRecord,
  q: CallbackQuery,
  body: string,
  wxSource: string | undefined,
  opts: PushOptions,
  count: CountStored,
): Promise<CallbackAnswer> {
  const route = opts.route ?? 'callback';
  const receivedAt = deps.clock.now();
  const deadline = receivedAt + deps.config.forwardBudgetMs;
  let opened: OpenedPush;
  // CloudRun delivers WeChat's pushes only: a WeCom push is always signed and encrypted.
  if (wxSource !== undefined && deps.config.trustWxSource && !alwaysEncrypted(app)) {
    requireCallbackKind(app, route);
    opened = openCloudRunPush(body);
    if (opened.inner.fields.action === 'CheckContainerPath') return SUCCESS;
  } else {
    if (wxSource !== undefined && q.signature === undefined && q.msg_signature === undefined) {
      throw new AppError(
        'UNAUTHORIZED',
        'x-wx-source is trusted only with WXHUB_TRUST_WX_SOURCE=1, and the push has no signature',
      );
    }
    opened = openSignedPush(deps, app, q, body, route, opts.receiveIds);
  }

  // Extra fields of auth events (infoType, authorizerAppId) are not columns; the codec skips them.
  const summary = summarize(opened.inner.fields);
  const authorizer = opts.authorizerAppId;
  const baseKey = dedupKey(summary, opened.message);
  const key = authorizer === undefined ? baseKey : authorizerDedupKey(authorizer, baseKey);
  const worker = `${deps.instanceId}:recv:${key.slice(-24)}`;
  const matchOn =
    authorizer === undefined
      ? opened.inner.fields
      : { ...opened.inner.fields, AuthorizerAppid: authorizer };
  const rules = targetRules(app.forward, matchOn);
  const hub = opts.answer?.(opened);
  // The hub's own answer is known now: stored with the message, like `success` without rules.
  const known =
    hub !== undefined
      ? hubAnswerText(deps, opened, summary, hub)
      : rules.length === 0
        ? 'success'
        : undefined;
  const kept = opts.redact?.(opened.inner.fields) ?? opened.inner.fields;
  // What each target gets; built only when one matched.
  const payload =
    rules.length === 0
      ? ''
      : stringifyExactJson({
          app: app.name,
          appId: app.appId,
          ...(authorizer === undefined ? {} : { authorizerAppId: authorizer }),
          receivedAt: new Date(receivedAt).toISOString(),
          format: opened.inner.format,
          encrypted: opened.encrypted,
          message: kept,
        });
  const deliveries = receiverDeliveries(app.name, key, rules, payload, {
    maxAttempts: deps.config.outboxMaxAttempts,
    receivedAt,
    // Answered by the hub: nothing is tried now, the outbox timer delivers.
    ...(hub === undefined ? { worker } : {}),
    deadline,
  });

  let stored: Awaited<ReturnType<typeof deps.store.messages.insert>>;
  try {
    stored = await deps.store.messages.insert(
      {
        app: app.name,
        dedupKey: key,
        receivedAt,
        format: opened.inner.format,
        encrypted: opened.encrypted,
        raw: body,
        parsed: kept,
        ...summary,
        authorizerAppid: authorizer,
        // Nothing to forward, or the hub answers: the answer is known now, stored with the message.
        reply: known,
      },
      deliveries,
      receivedAt,
      usedSignature(deps, q, opened, body),
    );
  } catch (err) {
    if (err instanceof SignatureReplayError) {
      deps.log.warn({ app: app.name }, 'push refused: signature already used with another body');
      throw new AppError('UNAUTHORIZED', 'this signature was already used with another body');
    }
    deps.log.error({ app: app.name, err: describe(err) }, 'push not stored: database error');
    throw new AppError('UNAVAILABLE', 'the push could not be stored; WeChat will retry');
  }

  const id = stored.message.id;
  count(stored.inserted ? 'stored' : 'deduplicated');
  if (opts.afterStore !== undefined) await opts.afterStore(opened);
  if (!stored.inserted) {
    deps.log.info(
      { app: app.name, message: id, ...(wxSource === undefined ? {} : { source: 'cloudrun' }) },
      'push retried: already stored',
    );
    try {
      return answer(await firstAnswer(deps, app.name, key, id));
    } catch (err) {
      deps.log.error({ app: app.name, err: describe(err) }, 'retried push: database error');
      throw new AppError('UNAVAILABLE', 'the stored answer could not be read; WeChat will retry');
    }
  }
  deps.log.info(
    {
      app: app.name,
      message: id,
      msgType: summary.msgType,
      event: summary.event,
      encrypted: opened.encrypted,
      deliveries: deliveries.length,
      ...(wxSource === undefined ? {} : { source: 'cloudrun' }),
    },
    'push stored',
  );

  if (hub?.after !== undefined) await runAfter(deps, app.name, id, hub.after, deadline);
  if (known !== undefined) return answer(known);
  let final = 'success';
  let attempts: MadeAttempt[] = [];
  try {
    attempts = await attemptNow(deps, 'message', id, rules, deadline);
    const reply = firstReply(rules, attempts);
    // The auth-event URL answers `success` only (a passive reply is for messages).
    if (reply !== undefined && route !== 'component-event' && route !== 'suite-command') {
      final = renderAnswer(deps, opened, summary, reply);
    }
  } catch (err) {
    // Stored already: the outbox keeps what was not delivered; answer success regardless.
    deps.log.error({ app: app.name, message: id, err: describe(err) }, 'forwarding failed');
  }
  // The outcomes and the answer are recorded together (one commit on SQLite), before answering.
  const [, recorded] = await Promise.allSettled([
    settleAll(deps, worker, attempts).catch((err: unknown) => {
      // The delivery stays pending under the receiver's lock: the outbox retries it later.
      deps.log.error({ app: app.name, message: id, err: describe(err) }, 'delivery not recorded');
    }),
    deps.store.messages.finishReply(id, final),
  ]);
  if (recorded.status === 'fulfilled') return answer(recorded.value);
  deps.log.error(
    { app: app.name, message: id, err: describe(recorded.reason) },
    'answer not recorded',
  );
  return answer(final);
}

/** A passive reply in the push's format, encrypted when the push was. */
function renderAnswer(
  deps: Pick<CallbackDeps, 'clock'>,
  opened: OpenedPush,
  summary: PushSummary,
  reply: Record<string, unknown>,
): string {
  const now = Math.floor(deps.clock.now() / 1000);
  const rendered = renderReply(opened.inner.format, summary, reply, now);
  return opened.keys === undefined
    ? rendered
    : encryptReply(opened.outer.format, rendered, opened.keys, now);
}

function hubAnswerText(
  deps: Pick<CallbackDeps, 'clock'>,
  opened: OpenedPush,
  summary: PushSummary,
  hub: HubAnswer,
): string {
  return hub.reply === undefined
    ? (hub.body ?? 'success')
    : renderAnswer(deps, opened, summary, hub.reply);
}

/**
 * Runs a {@link HubAnswer.after} job before answering, for at most the forwarding budget (a
 * serverless function may be frozen once it has answered, so work left running after the
 * answer could wait for the next request); a job still running then goes on unawaited. A throw
 * is logged.
 */
async function runAfter(
  deps: CallbackDeps,
  app: string,
  id: number,
  job: () => Promise<void>,
  deadline: number,
): Promise<void> {
  const logged = job().catch((err: unknown) => {
    deps.log.error({ app, message: id, err: describe(err) }, 'work after the answer failed');
  });
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - deps.clock.now()));
  });
  await Promise.race([logged, budget]);
  clearTimeout(timer);
}

/** The passive reply of the first rule whose target took the push and answered one. */
function firstReply(
  rules: { url: string }[],
  attempts: MadeAttempt[],
): Record<string, unknown> | undefined {
  for (const rule of rules) {
    const hit = attempts.find((a) => a.delivery.targetUrl === rule.url && a.result.ok);
    const reply = hit === undefined ? undefined : replyOf(hit.result.answer);
    if (reply !== undefined) return reply;
  }
  return undefined;
}

/**
 * A retry arrived while (or after) the first delivery was handled: wait for its answer for at
 * most the forwarding budget (real time), then settle on `success`; the first answer stored
 * wins, so every delivery of the push is answered alike.
 */
async function firstAnswer(
  deps: CallbackDeps,
  app: string,
  key: string,
  id: number,
): Promise<string> {
  const until = performance.now() + deps.config.forwardBudgetMs;
  for (;;) {
    const row = await deps.store.messages.get(app, key);
    if (row?.reply !== undefined) return row.reply;
    if (performance.now() >= until) return deps.store.messages.finishReply(id, 'success');
    await new Promise((r) => setTimeout(r, 50));
  }
}
