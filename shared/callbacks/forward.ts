import { createHash, randomBytes } from 'node:crypto';
import { LOCK_WINDOW_MS } from '../admin/lockout';
import type { Clock } from '../clock';
import { AUTHORIZATION_CODE_KIND, AUTHORIZATION_CODE_OWNER_PREFIX } from '../component/authorizers';
import type { ForwardRule } from '../config';
import { describe } from '../http/app';
import { type Logger, safeUrl } from '../http/log';
import type { Telemetry } from '../metrics/telemetry';
import { type DeliveryRecord, type NewDelivery, SIGNATURE_GRACE_MS, type Store } from '../store';
import { numberText, parseExactJson } from '../wechat/exact-json';

/** Header that carries a delivery's idempotency key: the same for every attempt of it. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Read at most this much of a target's answer (a passive reply is small). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The rules whose `match` all hold for the message: each key names a field, each value is the
 * text it must equal, or a list of accepted texts. A rule without `match` takes everything.
 *
 * @example matchingRules([{ url, match: { MsgType: 'event', Event: ['subscribe', 'SCAN'] } }], fields)
 */
export function matchingRules(
  rules: ForwardRule[],
  fields: Record<string, unknown>,
): ForwardRule[] {
  return rules.filter((rule) =>
    Object.entries(rule.match ?? {}).every(([field, accepted]) => {
      const value = fields[field];
      const text = typeof value === 'string' ? value : numberText(value);
      return (
        typeof text === 'string' && (Array.isArray(accepted) ? accepted : [accepted]).includes(text)
      );
    }),
  );
}

/** The rules matching `fields`, one per target URL (the first rule of a URL wins). */
export function targetRules(rules: ForwardRule[], fields: Record<string, unknown>): ForwardRule[] {
  return matchingRules(rules, fields).filter(
    (r, i, all) => all.findIndex((o) => o.url === r.url) === i,
  );
}

/** Stable per (source, target): every attempt of one delivery carries the same key. */
export function idempotencyKey(owner: string, sourceKey: string, url: string): string {
  return `wxhub-${createHash('sha256').update(`${owner}\n${sourceKey}\n${url}`, 'utf8').digest('hex').slice(0, 48)}`;
}

/**
 * The deliveries of one stored message or notification, one per distinct target URL, stored
 * already locked by the receiver `worker` (it tries them at once, until `deadline`); without a
 * `worker` they are left to the outbox timer.
 */
export function receiverDeliveries(
  owner: string,
  sourceKey: string,
  targets: { url: string }[],
  payload: string,
  opts: { maxAttempts: number; receivedAt: number; worker?: string; deadline: number },
): NewDelivery[] {
  const urls = [...new Set(targets.map((t) => t.url))];
  return urls.map((url) => ({
    owner,
    targetUrl: url,
    idempotencyKey: idempotencyKey(owner, sourceKey, url),
    payload,
    maxAttempts: opts.maxAttempts,
    nextAttemptAt: opts.receivedAt,
    ...(opts.worker === undefined
      ? {}
      : { lockedBy: opts.worker, lockedUntil: opts.deadline + 30_000 }),
  }));
}

/** A target URL fit for logs and listings: no user info, no query, no fragment. */
export function targetForLog(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return safeUrl(url.split('?')[0] ?? '');
  }
}

/** Wait before attempt `n + 1` after `n` failed ones: 30 s doubling, at most an hour. */
export const outboxBackoffMs = (failedAttempts: number) =>
  Math.min(30_000 * 2 ** Math.max(0, failedAttempts - 1), 3_600_000);

export interface AttemptResult {
  ok: boolean;
  /** Short cause when not ok: `HTTP 503`, `timed out after 4000 ms`, `ECONNREFUSED`. */
  error?: string;
  /** The target's JSON answer, when it sent one. */
  answer?: unknown;
}

/** POSTs one delivery's JSON payload with its idempotency key; never throws. */
export async function attemptDelivery(
  fetchFn: typeof fetch,
  d: Pick<DeliveryRecord, 'targetUrl' | 'payload' | 'idempotencyKey'>,
  timeoutMs: number,
): Promise<AttemptResult> {
  try {
    const res = await fetchFn(d.targetUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDEMPOTENCY_HEADER]: d.idempotencyKey,
        'user-agent': 'wxhub',
      },
      body: d.payload,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    if (res.status < 200 || res.status >= 300) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, error: `HTTP ${res.status}` };
    }
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('json')) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: true };
    }
    const text = await res.text();
    if (text.length > MAX_ANSWER_BYTES) return { ok: true };
    try {
      return { ok: true, answer: parseExactJson(text) };
    } catch {
      return { ok: true };
    }
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      return { ok: false, error: `timed out after ${timeoutMs} ms` };
    }
    const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
    return {
      ok: false,
      error: typeof cause?.code === 'string' ? cause.code : describe(err).message.slice(0, 200),
    };
  }
}

export interface OutboxDeps {
  store: Store;
  clock: Clock;
  fetch: typeof fetch;
  log: Logger;
  instanceId: string;
  /** Pushes and pay notifications are counted here (`wxhub_callbacks_total`…). */
  telemetry?: Telemetry;
}

/**
 * The counter of deliveries that ran out of attempts (label: their source, `message` or `pay`),
 * per hour and in all: `wxhub_outbox_dead_total` and the dashboard read it.
 */
export const DEAD_COUNTER = 'delivery_dead';

export interface DrainSummary {
  delivered: number;
  retrying: number;
  dead: number;
}

/**
 * One drain of the outbox (part of the refresh pass): claims due deliveries under a lock of its
 * own, tries each, and records the outcome; failures back off ({@link outboxBackoffMs}) until
 * their attempts run out, then stay as `dead` rows for people to look at.
 */
export async function drainOutbox(
  deps: OutboxDeps,
  opts: { limit?: number; concurrency?: number; timeoutMs?: number; owner?: string } = {},
): Promise<DrainSummary> {
  const worker = `${deps.instanceId}:drain:${randomBytes(4).toString('hex')}`;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const due = await deps.store.outbox.claimDue(
    worker,
    deps.clock.now(),
    timeoutMs + 30_000,
    opts.limit ?? 500,
    opts.owner,
  );
  const summary: DrainSummary = { delivered: 0, retrying: 0, dead: 0 };
  let next = 0;
  const run = async () => {
    for (let d = due[next++]; d !== undefined; d = due[next++]) {
      await settle(deps, worker, d, await attemptDelivery(deps.fetch, d, timeoutMs), summary);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, due.length) }, run));
  return summary;
}

/** Records one attempt of `d` made under `worker`'s lock. */
export async function settle(
  deps: OutboxDeps,
  worker: string,
  d: DeliveryRecord,
  result: AttemptResult,
  summary?: DrainSummary,
): Promise<void> {
  const now = deps.clock.now();
  if (result.ok) {
    if (await deps.store.outbox.markDelivered(d.id, worker, now)) {
      if (summary) summary.delivered += 1;
    }
    return;
  }
  const error = result.error ?? 'failed';
  const status = await deps.store.outbox.markFailed(
    d.id,
    worker,
    error,
    now + outboxBackoffMs(d.attempts + 1),
    now,
  );
  if (status === 'lost') return;
  if (summary) summary[status === 'dead' ? 'dead' : 'retrying'] += 1;
  const line = {
    delivery: d.id,
    owner: d.owner,
    target: targetForLog(d.targetUrl),
    attempts: d.attempts + 1,
    error,
  };
  if (status === 'dead') {
    deps.log.error(line, 'delivery dead: out of attempts');
    await deps.store.counters
      .increment(DEAD_COUNTER, d.source, now, { total: true })
      .catch((err: unknown) =>
        deps.log.warn({ delivery: d.id, err: describe(err) }, 'dead delivery not counted'),
      );
  } else deps.log.warn(line, 'delivery failed; will retry');
}

/**
 * Tries the receiver-locked deliveries of stored source `id` at once, each within its target's
 * timeout and what is left before `deadline`, and records the outcomes (failures stay in the
 * outbox for the timer).
 */
export async function deliverNow(
  deps: OutboxDeps,
  source: DeliveryRecord['source'],
  id: number,
  worker: string,
  targets: { url: string; timeoutMs?: number | undefined }[],
  deadline: number,
): Promise<{ url: string; result: AttemptResult }[]> {
  const attempts = await attemptNow(deps, source, id, targets, deadline);
  await settleAll(deps, worker, attempts);
  return attempts.map(({ delivery, result }) => ({ url: delivery.targetUrl, result }));
}

/** One attempt of a stored delivery, not recorded yet ({@link settleAll} records it). */
export interface MadeAttempt {
  delivery: DeliveryRecord;
  result: AttemptResult;
}

/**
 * {@link deliverNow} without the recording: the attempts are made, and the caller records them
 * with {@link settleAll} — e.g. together with the push's answer, in the same commit on SQLite.
 */
export async function attemptNow(
  deps: OutboxDeps,
  source: DeliveryRecord['source'],
  id: number,
  targets: { url: string; timeoutMs?: number | undefined }[],
  deadline: number,
): Promise<MadeAttempt[]> {
  const mine = (await deps.store.outbox.forSource(source, id)).filter(
    (d) => d.status === 'pending',
  );
  return Promise.all(
    mine.map(async (delivery) => {
      const target = targets.find((t) => t.url === delivery.targetUrl);
      const left = Math.max(100, deadline - deps.clock.now());
      const result = await attemptDelivery(
        deps.fetch,
        delivery,
        Math.min(target?.timeoutMs ?? left, left),
      );
      return { delivery, result };
    }),
  );
}

/** Records the outcomes of attempts made under `worker`'s lock, all at once. */
export async function settleAll(
  deps: OutboxDeps,
  worker: string,
  attempts: MadeAttempt[],
): Promise<void> {
  await Promise.all(attempts.map((a) => settle(deps, worker, a.delivery, a.result)));
}

export interface PurgeSummary {
  messages: number;
  deliveries: number;
  signatures: number;
  /** Third-party platforms' spent authorization-code rows (kept a day, for redeliveries). */
  authorizationCodes: number;
  /** Console login attempts older than the lockout window (they no longer count). */
  loginFailures: number;
}

/**
 * A code's row answers WeChat's redeliveries of its push and the browser's redirect; a code is
 * good for an hour at most, so after a day the row is spent whatever the retention setting.
 */
const AUTHORIZATION_CODE_KEEP_MS = 86_400_000;

/**
 * Longest a refresh pass spends deleting remembered push signatures. At 1,000 per statement a
 * batch takes milliseconds: this keeps up with hundreds of thousands a minute.
 */
export const SIGNATURE_PURGE_BUDGET_MS = 5_000;

/**
 * Retention (part of the refresh pass): deletes stored messages received, and delivered outbox
 * rows delivered, more than `retentionDays` ago, in batches; pending and dead deliveries stay.
 * `retentionDays` 0 keeps every message. Remembered push signatures go a minute after they
 * expired ({@link SIGNATURE_GRACE_MS}), always, every one of them (within
 * {@link SIGNATURE_PURGE_BUDGET_MS}); third-party platforms' authorization-code rows a day after
 * their last write; console login attempts once out of the lockout window.
 */
export async function purgeExpired(
  deps: Pick<OutboxDeps, 'store' | 'clock'>,
  retentionDays: number,
  batch = 1_000,
  maxBatches = 20,
): Promise<PurgeSummary> {
  const summary: PurgeSummary = {
    messages: 0,
    deliveries: 0,
    signatures: 0,
    authorizationCodes: 0,
    loginFailures: 0,
  };
  // Remembered signatures are only needed while their timestamp is accepted (and a minute more,
  // for a push accepted just before then still on its way), whatever the retention of messages.
  // One is remembered per push: a busy message URL adds thousands a minute, so they go until
  // none is left, within a time budget rather than a number of batches.
  const started = performance.now();
  for (;;) {
    const n = await deps.store.messages.purgeSignatures(
      deps.clock.now() - SIGNATURE_GRACE_MS,
      batch,
    );
    summary.signatures += n;
    if (n < batch || performance.now() - started >= SIGNATURE_PURGE_BUDGET_MS) break;
  }
  const spent = deps.clock.now() - AUTHORIZATION_CODE_KEEP_MS;
  for (let i = 0; i < maxBatches; i++) {
    const n = await deps.store.credentials.purgeKindBefore(
      AUTHORIZATION_CODE_OWNER_PREFIX,
      AUTHORIZATION_CODE_KIND,
      spent,
      batch,
    );
    summary.authorizationCodes += n;
    if (n < batch) break;
  }
  const attempts = deps.clock.now() - LOCK_WINDOW_MS;
  for (let i = 0; i < maxBatches; i++) {
    const n = await deps.store.admin.purgeLoginFailures(attempts, batch);
    summary.loginFailures += n;
    if (n < batch) break;
  }
  // SMS codes (shared/sms/codes.ts): the longest limit window is a day and a code lives 5
  // minutes, so a row two days old counts for nothing (not in the summary: no field for it).
  const smsBefore = deps.clock.now() - 2 * 86_400_000;
  for (let i = 0; i < maxBatches; i++) {
    if ((await deps.store.sms.purgeBefore(smsBefore, batch)) < batch) break;
  }
  if (retentionDays <= 0) return summary;
  const before = deps.clock.now() - retentionDays * 86_400_000;
  for (let i = 0; i < maxBatches; i++) {
    const n = await deps.store.messages.purgeBefore(before, batch);
    summary.messages += n;
    if (n < batch) break;
  }
  for (let i = 0; i < maxBatches; i++) {
    const n = await deps.store.outbox.purgeDelivered(before, batch);
    summary.deliveries += n;
    if (n < batch) break;
  }
  return summary;
}
