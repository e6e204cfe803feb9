import { createHash } from 'node:crypto';
import {
  attemptNow,
  type OutboxDeps,
  receiverDeliveries,
  settleAll,
  targetRules,
} from '../callbacks/forward';
import type { Config } from '../config';
import { describe } from '../http/app';
import { AppError } from '../http/errors';
import type { AppRecord } from '../store';
import { stringifyExactJson } from '../wechat/exact-json';
import type { DeliveryPlatform } from './owners';

/**
 * A delivery platform's callback, once verified: stored with its deliveries in one transaction
 * (the same callback store and outbox as WeChat's pushes) before anything is answered, stored once
 * however often it is sent, forwarded by the app's `forward` rules within the forwarding budget
 * (what is not delivered stays in the outbox for the timer).
 */

export interface PlatformPushDeps extends OutboxDeps {
  config: Pick<Config, 'forwardBudgetMs' | 'outboxMaxAttempts'>;
}

export interface PlatformPush {
  platform: DeliveryPlatform;
  /** The body as received. */
  raw: string;
  /** What rules match on and targets receive (`message` of the payload). */
  fields: Record<string, unknown>;
  /** What makes two deliveries the same callback (hashed into the dedup key). */
  identity: string;
  /** Stored in the message's columns, for the console's search. */
  msgType: string;
  event?: string | undefined;
  fromUser?: string | undefined;
}

/** Stores, deduplicates and forwards `push`; answers whether it was new. */
export async function receivePlatformPush(
  deps: PlatformPushDeps,
  app: AppRecord,
  push: PlatformPush,
  ack: string,
): Promise<{ inserted: boolean }> {
  const receivedAt = deps.clock.now();
  const deadline = receivedAt + deps.config.forwardBudgetMs;
  const hash = createHash('sha256').update(push.identity, 'utf8').digest('hex');
  const key = `${push.platform}:${hash}`;
  const worker = `${deps.instanceId}:recv:${hash.slice(-24)}`;
  const rules = targetRules(app.forward, push.fields);
  const payload =
    rules.length === 0
      ? ''
      : stringifyExactJson({
          app: app.name,
          appId: app.appId,
          platform: push.platform,
          receivedAt: new Date(receivedAt).toISOString(),
          message: push.fields,
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
        format: 'json',
        encrypted: false,
        raw: push.raw,
        parsed: push.fields,
        msgType: push.msgType,
        event: push.event,
        fromUser: push.fromUser,
        reply: ack,
      },
      deliveries,
      receivedAt,
    );
  } catch (err) {
    deps.log.error({ app: app.name, err: describe(err) }, 'callback not stored: database error');
    throw new AppError('UNAVAILABLE', 'the callback could not be stored; send it again');
  }
  const id = stored.message.id;
  if (!stored.inserted) {
    deps.log.info({ app: app.name, message: id }, 'callback sent again: already stored');
    return { inserted: false };
  }
  deps.log.info(
    { app: app.name, message: id, platform: push.platform, deliveries: deliveries.length },
    'callback stored',
  );
  if (rules.length === 0) return { inserted: true };
  try {
    const attempts = await attemptNow(deps, 'message', id, rules, deadline);
    await settleAll(deps, worker, attempts);
  } catch (err) {
    // Stored already: the outbox keeps what was not delivered.
    deps.log.error({ app: app.name, message: id, err: describe(err) }, 'forwarding failed');
  }
  return { inserted: true };
}
