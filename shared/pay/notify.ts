import { deliverNow, type OutboxDeps, receiverDeliveries } from '../callbacks/forward';
import type { Config } from '../config';
import { describe } from '../http/app';
import { AppError } from '../http/errors';
import type { MerchantRecord } from '../store';
import { ExactJsonError, parseExactJson, stringifyExactJson } from '../wechat/exact-json';
import { decryptResource, PayCryptoError, SIGNTEST_PREFIX, verifyLines } from './crypto';
import { merchantKeys, type PayDeps, verifierFor } from './merchant';

export interface PayNotifyDeps extends OutboxDeps, PayDeps {
  config: Pick<Config, 'forwardBudgetMs' | 'outboxMaxAttempts'>;
}

/**
 * The signature headers of a notification, as received
 * (https://pay.weixin.qq.com/docs/merchant/development/interface-rules/build-verify-sign-src.html).
 */
export interface PayNotifyHeaders {
  timestamp: string | undefined;
  nonce: string | undefined;
  signature: string | undefined;
  serial: string | undefined;
}

/** `Wechatpay-Timestamp` further than this from now is refused (replays). */
export const PAY_MAX_SKEW_SECONDS = 300;

const NOTIFICATION_ID = /^[\w.:-]{1,64}$/;

interface NotificationBody {
  id: string;
  create_time?: string;
  event_type: string;
  resource_type: string;
  summary?: string;
  resource: {
    original_type?: string;
    algorithm: string;
    ciphertext: string;
    nonce: string;
    associated_data?: string;
  };
}

/** Checks the timestamp and the signature over `timestamp\nnonce\nbody\n` (raw bytes). */
async function checkSignature(
  deps: PayNotifyDeps,
  merchant: MerchantRecord,
  h: PayNotifyHeaders,
  body: Buffer,
): Promise<void> {
  const { timestamp, nonce, signature, serial } = h;
  if (!timestamp || !nonce || !signature || !serial) {
    throw new AppError(
      'UNAUTHORIZED',
      'missing Wechatpay-Timestamp, Wechatpay-Nonce, Wechatpay-Signature or Wechatpay-Serial',
    );
  }
  if (signature.startsWith(SIGNTEST_PREFIX)) {
    throw new AppError('UNAUTHORIZED', 'signature probe (WECHATPAY/SIGNTEST/) refused');
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new AppError('UNAUTHORIZED', 'Wechatpay-Timestamp is not a number');
  }
  const skew = Math.abs(deps.clock.now() / 1000 - Number(timestamp));
  if (skew > PAY_MAX_SKEW_SECONDS) {
    throw new AppError(
      'UNAUTHORIZED',
      `Wechatpay-Timestamp is ${Math.round(skew)} s from now (at most ${PAY_MAX_SKEW_SECONDS} s accepted)`,
    );
  }
  const key = await verifierFor(deps, merchant, serial);
  if (key === undefined) {
    throw new AppError(
      'UNAUTHORIZED',
      `Wechatpay-Serial ${serial.slice(0, 64)} names no public key or platform certificate of merchant "${merchant.name}"`,
    );
  }
  if (!verifyLines(key, [timestamp, nonce, body], signature)) {
    throw new AppError('UNAUTHORIZED', 'Wechatpay-Signature does not verify');
  }
}

const str = (v: unknown): v is string => typeof v === 'string';

/** The notification envelope, shape-checked. */
function parseEnvelope(body: Buffer): NotificationBody {
  let json: unknown;
  try {
    json = parseExactJson(body.toString('utf8'));
  } catch (err) {
    if (err instanceof ExactJsonError) {
      throw new AppError(
        'BAD_REQUEST',
        err.reason === 'syntax' ? 'body is not JSON' : `body ${err.message}`,
      );
    }
    throw err;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new AppError('BAD_REQUEST', 'body is not a JSON object');
  }
  const n = json as Record<string, unknown>;
  const r = n.resource as Record<string, unknown> | undefined;
  if (!str(n.id) || !NOTIFICATION_ID.test(n.id)) {
    throw new AppError('BAD_REQUEST', 'id is missing or not a notification id');
  }
  if (!str(n.event_type) || n.event_type === '' || n.event_type.length > 64) {
    throw new AppError('BAD_REQUEST', 'event_type is missing');
  }
  if (
    typeof r !== 'object' ||
    r === null ||
    !str(r.ciphertext) ||
    !str(r.nonce) ||
    !str(r.algorithm)
  ) {
    throw new AppError('BAD_REQUEST', 'resource with algorithm, ciphertext and nonce is missing');
  }
  return {
    id: n.id,
    event_type: n.event_type,
    resource_type: str(n.resource_type) ? n.resource_type.slice(0, 64) : 'encrypt-resource',
    ...(str(n.create_time) ? { create_time: n.create_time.slice(0, 40) } : {}),
    ...(str(n.summary) ? { summary: n.summary.slice(0, 255) } : {}),
    resource: {
      algorithm: r.algorithm,
      ciphertext: r.ciphertext,
      nonce: r.nonce,
      ...(str(r.associated_data) ? { associated_data: r.associated_data } : {}),
      ...(str(r.original_type) ? { original_type: r.original_type } : {}),
    },
  };
}

/** Decrypts the resource with the merchant's API v3 key; it must be a JSON object. */
function openResource(merchant: MerchantRecord, n: NotificationBody): Record<string, unknown> {
  let text: string;
  try {
    text = decryptResource(merchantKeys(merchant).apiV3Key, n.resource);
  } catch (err) {
    if (err instanceof PayCryptoError) throw new AppError('BAD_REQUEST', err.message);
    throw err;
  }
  let resource: unknown;
  try {
    resource = parseExactJson(text);
  } catch (err) {
    if (err instanceof ExactJsonError) {
      throw new AppError(
        'BAD_REQUEST',
        err.reason === 'syntax'
          ? 'decrypted resource is not JSON'
          : `decrypted resource ${err.message}`,
      );
    }
    throw err;
  }
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    throw new AppError('BAD_REQUEST', 'decrypted resource is not a JSON object');
  }
  return resource as Record<string, unknown>;
}

/** An `event_type` as a label: WeChat Pay's (`TRANSACTION.SUCCESS`), else `other`. */
function eventTypeLabel(eventType: string): string {
  return /^[A-Z][A-Z0-9_.]{0,63}$/.test(eventType) ? eventType : 'other';
}

/**
 * A WeChat Pay notification (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_2_5.shtml;
 * README "WeChat Pay"): signature on the raw bytes, timestamp window, resource decrypted with the
 * tag checked, stored once by notification id with its deliveries in one transaction, forwarded
 * within the budget (what fails stays in the outbox), then acknowledged. Any refusal throws an
 * {@link AppError} and stores nothing; a duplicate is acknowledged and stores nothing.
 *
 * @returns true when stored now, false for a duplicate
 */
export async function receiveNotification(
  deps: PayNotifyDeps,
  merchant: MerchantRecord,
  headers: PayNotifyHeaders,
  body: Buffer,
): Promise<boolean> {
  const receivedAt = deps.clock.now();
  const deadline = receivedAt + deps.config.forwardBudgetMs;
  await checkSignature(deps, merchant, headers, body);
  const envelope = parseEnvelope(body);
  let resource: Record<string, unknown>;
  try {
    resource = openResource(merchant, envelope);
  } catch (err) {
    deps.log.error(
      { merchant: merchant.name, notification: envelope.id, err: describe(err) },
      'pay notification verified but its resource does not open: check apiV3Key',
    );
    throw err;
  }

  const worker = `${deps.instanceId}:pay:${envelope.id.slice(-24)}`;
  const payload = stringifyExactJson({
    merchant: merchant.name,
    mchId: merchant.mchId,
    id: envelope.id,
    eventType: envelope.event_type,
    createTime: envelope.create_time ?? null,
    summary: envelope.summary ?? null,
    originalType: envelope.resource.original_type ?? null,
    receivedAt: new Date(receivedAt).toISOString(),
    resource,
  });
  const targets = merchant.forward;
  const deliveries = receiverDeliveries(merchant.name, `pay:${envelope.id}`, targets, payload, {
    maxAttempts: deps.config.outboxMaxAttempts,
    receivedAt,
    worker,
    deadline,
  });

  let stored: Awaited<ReturnType<typeof deps.store.payNotifications.insert>>;
  try {
    stored = await deps.store.payNotifications.insert(
      {
        merchant: merchant.name,
        notificationId: envelope.id,
        eventType: envelope.event_type,
        resourceType: envelope.resource_type,
        summary: envelope.summary,
        createTime: envelope.create_time,
        raw: body.toString('utf8'),
        resource,
        receivedAt,
      },
      deliveries,
      receivedAt,
    );
  } catch (err) {
    deps.log.error({ merchant: merchant.name, err: describe(err) }, 'pay notification not stored');
    throw new AppError(
      'UNAVAILABLE',
      'the notification could not be stored; WeChat Pay will retry',
    );
  }
  const id = stored.notification.id;
  deps.telemetry?.metrics.payNotification(
    eventTypeLabel(envelope.event_type),
    stored.inserted ? 'stored' : 'deduplicated',
  );
  if (!stored.inserted) {
    deps.log.info(
      { merchant: merchant.name, notification: envelope.id, row: id },
      'pay notification retried: already stored',
    );
    return false;
  }
  deps.log.info(
    {
      merchant: merchant.name,
      notification: envelope.id,
      row: id,
      eventType: envelope.event_type,
      deliveries: deliveries.length,
    },
    'pay notification stored',
  );
  if (deliveries.length > 0) {
    try {
      await deliverNow(deps, 'pay', id, worker, targets, deadline);
    } catch (err) {
      // Stored already: the outbox keeps what was not delivered.
      deps.log.error({ merchant: merchant.name, row: id, err: describe(err) }, 'forwarding failed');
    }
  }
  return true;
}
