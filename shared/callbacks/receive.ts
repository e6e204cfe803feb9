import type { Config } from '../config';
import { describe } from '../http/app';
import { AppError } from '../http/errors';
import type { AppRecord } from '../store';
import { assertReadable } from '../store/codec';
import {
  aesKeyOf,
  decryptMessage,
  MessageCryptoError,
  signatureOf,
} from '../wechat/message-crypto';
import { deliverNow, matchingRules, type OutboxDeps, receiverDeliveries } from './forward';
import { dedupKey, type PushBody, parsePushBody, summarize } from './message';
import { answerType, encryptReply, renderReply, replyOf } from './reply';

export interface CallbackDeps extends OutboxDeps {
  config: Pick<
    Config,
    'callbackMaxSkewSeconds' | 'forwardBudgetMs' | 'outboxMaxAttempts' | 'trustWxSource'
  >;
}

/** The query WeChat puts on callback URLs (wechat.md §3.2, §3.3). */
export interface CallbackQuery {
  signature?: string | undefined;
  timestamp?: string | undefined;
  nonce?: string | undefined;
  echostr?: string | undefined;
  encrypt_type?: string | undefined;
  msg_signature?: string | undefined;
}

/** What the route sends back to WeChat. */
export interface CallbackAnswer {
  status: number;
  body: string;
  contentType: string;
}

const CALLBACK_KINDS = new Set(['official', 'miniprogram']);

function requireCallbackKind(app: AppRecord): void {
  if (!CALLBACK_KINDS.has(app.kind)) {
    throw new AppError(
      'BAD_REQUEST',
      `app "${app.name}" is a ${app.kind} app; /wx/{app}/callback is for official and miniprogram apps`,
    );
  }
}

function callbackToken(app: AppRecord): string {
  requireCallbackKind(app);
  // A token that does not open is a 503 (WeChat retries), not "no token configured".
  assertReadable(app, 'apps.callback_token');
  if (app.token === undefined) {
    throw new AppError('CONFLICT', `app "${app.name}" has no callback token configured`);
  }
  return app.token;
}

/** Checks `timestamp` against the clock and `presented` against `sha1(sort(token, ts, nonce, …))`. */
function checkSignature(
  deps: CallbackDeps,
  token: string,
  q: CallbackQuery,
  presented: string | undefined,
  extra: string[],
  what: string,
): void {
  if (q.timestamp === undefined || q.nonce === undefined || presented === undefined) {
    throw new AppError('UNAUTHORIZED', `missing ${what}, timestamp or nonce`);
  }
  if (!/^\d{1,12}$/.test(q.timestamp))
    throw new AppError('UNAUTHORIZED', 'timestamp is not a number');
  const skew = Math.abs(deps.clock.now() / 1000 - Number(q.timestamp));
  if (skew > deps.config.callbackMaxSkewSeconds) {
    throw new AppError(
      'UNAUTHORIZED',
      `timestamp is ${Math.round(skew)} s from now (at most ${deps.config.callbackMaxSkewSeconds} s accepted)`,
    );
  }
  if (!signatureOf(presented, token, q.timestamp, q.nonce, ...extra)) {
    throw new AppError('UNAUTHORIZED', `${what} does not match`);
  }
}

/**
 * Server verification (GET): answers `echostr` verbatim when `signature` matches the app's
 * callback token; throws 401 otherwise.
 */
export function verifyServer(deps: CallbackDeps, app: AppRecord, q: CallbackQuery): string {
  const token = callbackToken(app);
  checkSignature(deps, token, q, q.signature, [], 'signature');
  if (q.echostr === undefined || q.echostr === '') {
    throw new AppError('BAD_REQUEST', 'echostr is missing');
  }
  return q.echostr;
}

interface OpenedPush {
  outer: PushBody;
  /** The message as text (decrypted in safe mode) and its fields. */
  message: string;
  inner: PushBody;
  encrypted: boolean;
  keys?: { token: string; aesKey: Buffer; appId: string };
}

/** Verifies and opens a signed push: plaintext, compatible or safe mode. */
function openSignedPush(
  deps: CallbackDeps,
  app: AppRecord,
  q: CallbackQuery,
  body: string,
): OpenedPush {
  const token = callbackToken(app);
  if (q.encrypt_type === undefined || q.encrypt_type === '' || q.encrypt_type === 'raw') {
    checkSignature(deps, token, q, q.signature, [], 'signature');
    const outer = parsePushBody(body);
    return { outer, message: body, inner: outer, encrypted: false };
  }
  if (q.encrypt_type !== 'aes') {
    throw new AppError('BAD_REQUEST', `encrypt_type "${q.encrypt_type.slice(0, 16)}" is not aes`);
  }
  assertReadable(app, 'apps.encoding_aes_key');
  if (app.encodingAesKey === undefined) {
    throw new AppError('CONFLICT', `app "${app.name}" has no encodingAesKey configured`);
  }
  const outer = parsePushBody(body);
  const encrypt = outer.fields.Encrypt;
  if (typeof encrypt !== 'string' || encrypt === '') {
    throw new AppError('BAD_REQUEST', 'safe-mode body has no Encrypt field');
  }
  checkSignature(deps, token, q, q.msg_signature, [encrypt], 'msg_signature');
  const aesKey = aesKeyOf(app.encodingAesKey);
  let message: string;
  try {
    message = decryptMessage(aesKey, encrypt, app.appId);
  } catch (err) {
    if (err instanceof MessageCryptoError) {
      throw new AppError('BAD_REQUEST', `cannot decrypt Encrypt: ${err.message}`);
    }
    throw err;
  }
  const inner = parsePushBody(message, 'decrypted message');
  return { outer, message, inner, encrypted: true, keys: { token, aesKey, appId: app.appId } };
}

/** Opens a CloudRun push (no signature; only when `x-wx-source` is trusted). */
function openCloudRunPush(body: string): OpenedPush {
  const outer = parsePushBody(body);
  return { outer, message: body, inner: outer, encrypted: false };
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
): Promise<CallbackAnswer> {
  const receivedAt = deps.clock.now();
  const deadline = receivedAt + deps.config.forwardBudgetMs;
  let opened: OpenedPush;
  if (wxSource !== undefined && deps.config.trustWxSource) {
    requireCallbackKind(app);
    opened = openCloudRunPush(body);
    if (opened.inner.fields.action === 'CheckContainerPath') return SUCCESS;
  } else {
    if (wxSource !== undefined && q.signature === undefined && q.msg_signature === undefined) {
      throw new AppError(
        'UNAUTHORIZED',
        'x-wx-source is trusted only with WXHUB_TRUST_WX_SOURCE=1, and the push has no signature',
      );
    }
    opened = openSignedPush(deps, app, q, body);
  }

  const summary = summarize(opened.inner.fields);
  const key = dedupKey(summary, opened.message);
  const worker = `${deps.instanceId}:recv:${key.slice(-24)}`;
  const rules = matchingRules(app.forward, opened.inner.fields).filter(
    (r, i, all) => all.findIndex((o) => o.url === r.url) === i,
  );
  const payload = JSON.stringify({
    app: app.name,
    appId: app.appId,
    receivedAt: new Date(receivedAt).toISOString(),
    format: opened.inner.format,
    encrypted: opened.encrypted,
    message: opened.inner.fields,
  });
  const deliveries = receiverDeliveries(app.name, key, rules, payload, {
    maxAttempts: deps.config.outboxMaxAttempts,
    receivedAt,
    worker,
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
        parsed: opened.inner.fields,
        ...summary,
        // Nothing to forward: the answer is known now, and stored with the message.
        reply: rules.length === 0 ? 'success' : undefined,
      },
      deliveries,
      receivedAt,
    );
  } catch (err) {
    deps.log.error({ app: app.name, err: describe(err) }, 'push not stored: database error');
    throw new AppError('UNAVAILABLE', 'the push could not be stored; WeChat will retry');
  }

  const id = stored.message.id;
  if (!stored.inserted) {
    deps.log.info({ app: app.name, message: id, source: wxSource }, 'push retried: already stored');
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

  if (rules.length === 0) return SUCCESS;
  let final = 'success';
  try {
    const reply = await forwardNow(deps, id, worker, rules, deadline);
    if (reply !== undefined) {
      const now = Math.floor(deps.clock.now() / 1000);
      const rendered = renderReply(opened.inner.format, summary, reply, now);
      final =
        opened.keys === undefined
          ? rendered
          : encryptReply(opened.outer.format, rendered, opened.keys, now);
    }
  } catch (err) {
    // Stored already: the outbox keeps what was not delivered; answer success regardless.
    deps.log.error({ app: app.name, message: id, err: describe(err) }, 'forwarding failed');
  }
  try {
    return answer(await deps.store.messages.finishReply(id, final));
  } catch (err) {
    deps.log.error({ app: app.name, message: id, err: describe(err) }, 'answer not recorded');
    return answer(final);
  }
}

/** Tries the deliveries of message `id` at once; returns the first rule's passive reply. */
async function forwardNow(
  deps: CallbackDeps,
  id: number,
  worker: string,
  rules: { url: string; timeoutMs?: number | undefined }[],
  deadline: number,
): Promise<Record<string, unknown> | undefined> {
  if (rules.length === 0) return undefined;
  const results = await deliverNow(deps, 'message', id, worker, rules, deadline);
  for (const rule of rules) {
    const hit = results.find((r) => r.url === rule.url && r.result.ok);
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
