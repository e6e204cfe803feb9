import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { requireSmsSender } from '../apps/signing-entries';
import type { Clock } from '../clock';
import type { SmsLimits, SmsSenderConfig } from '../config/signing-entries';
import { AppError } from '../http/errors';
import type { Logger } from '../http/log';
import type { SmsTarget, Store } from '../store';
import { type AliyunHttp, SendSmsError, sendSms } from './send-sms';

/** A code verifies for 5 minutes. */
export const SMS_CODE_TTL_MS = 5 * 60_000;
const LOCK_MS = 10_000;
const LOCK_WAIT_MS = 2_000;

export interface SmsDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  instanceId: string;
  aliyun: AliyunHttp;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The phone number as sent and hashed: digits, an optional leading `+`; China's `+86`, `0086`
 * and `86` prefixes of an 11-digit mobile number dropped (Aliyun accepts the bare number).
 */
export function normalizePhone(phone: string): string {
  const compact = phone.replace(/[\s-]/g, '');
  if (!/^\+?\d{6,20}$/.test(compact)) {
    throw new AppError('BAD_REQUEST', 'phone must be a phone number (digits, optional leading +)');
  }
  const china = /^(?:\+86|0086|86)?(1\d{10})$/.exec(compact);
  return china?.[1] ?? compact;
}

const SCENE = /^[a-z0-9_-]{1,32}$/;
function checkScene(scene: string): void {
  if (!SCENE.test(scene)) throw new AppError('BAD_REQUEST', 'scene must match [a-z0-9_-]{1,32}');
}

function targetOf(sender: string, phone: string, scene: string): SmsTarget {
  return { sender, phoneHash: sha256(`${sender}\n${phone}`), scene };
}

const codeHashOf = (t: SmsTarget, code: string) =>
  sha256(`${t.sender}\n${t.phoneHash}\n${t.scene}\n${code}`);

const WINDOWS = [
  ['perMinute', 60_000, 'a minute'],
  ['perHour', 3_600_000, 'an hour'],
  ['perDay', 86_400_000, 'a day'],
] as const;

/** Throws 429 when one more send would pass a limit of the phone, or of the phone and scene. */
async function checkLimits(deps: SmsDeps, sender: SmsSenderConfig, t: SmsTarget, now: number) {
  const check = async (limits: SmsLimits, scene: string | undefined) => {
    for (const [field, windowMs, label] of WINDOWS) {
      const sent = await deps.store.sms.countSends(t.sender, t.phoneHash, now - windowMs, scene);
      if (sent >= limits[field]) {
        const what = scene === undefined ? 'one phone number' : 'one phone number and scene';
        throw new AppError(
          'RATE_LIMITED',
          `at most ${limits[field]} code(s) ${label} to ${what}; try again later`,
        );
      }
    }
  };
  await check(sender.limits, undefined);
  await check(sender.sceneLimits ?? sender.limits, t.scene);
}

/** Runs `work` holding the phone's lock (a lease in the database, for every instance). */
async function withPhoneLock<T>(deps: SmsDeps, t: SmsTarget, work: () => Promise<T>): Promise<T> {
  const owner = `${deps.instanceId}:${randomBytes(4).toString('hex')}`;
  const started = Date.now();
  while (!(await deps.store.sms.lock(t.sender, t.phoneHash, owner, deps.clock.now(), LOCK_MS))) {
    if (Date.now() - started > LOCK_WAIT_MS) {
      throw new AppError(
        'RATE_LIMITED',
        'a code is being sent to this phone number; try again later',
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  try {
    return await work();
  } finally {
    await deps.store.sms.unlock(t.sender, t.phoneHash, owner);
  }
}

/**
 * `POST /v1/sms/{name}/codes`: a random 6-digit code for (phone, scene), sent with SendSms. Only
 * its hash is stored; it verifies for 5 minutes and replaces the codes sent before it. The
 * limits are counted in the database under the phone's lock, so they hold across instances.
 * SendSms is never retried: Aliyun refusing it (502) frees the send from the limits; a timeout
 * (504) keeps the code valid and counted, since the SMS may have arrived.
 */
export async function sendCode(
  deps: SmsDeps,
  name: string,
  input: { phone: string; scene: string },
): Promise<{ expiresAt: number }> {
  const phone = normalizePhone(input.phone);
  checkScene(input.scene);
  const sender = await requireSmsSender(deps.store, name);
  const t = targetOf(sender.name, phone, input.scene);
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const { id, expiresAt } = await withPhoneLock(deps, t, async () => {
    const now = deps.clock.now();
    await checkLimits(deps, sender, t, now);
    const expiresAt = now + SMS_CODE_TTL_MS;
    return { id: await deps.store.sms.addCode(t, codeHashOf(t, code), expiresAt, now), expiresAt };
  });
  // `phone` is masked by the logger (shared/http/log.ts, PHONE_FIELDS): `139****5678`.
  const logged = { sender: sender.name, phone, scene: t.scene };
  try {
    await sendSms(deps.aliyun, sender, phone, { [sender.codeParam]: code }, deps.clock.now());
  } catch (err) {
    const maybe = err instanceof SendSmsError && err.delivered === 'maybe';
    await deps.store.sms.setStatus(id, maybe ? 'unknown' : 'failed');
    deps.log.warn(
      {
        ...logged,
        outcome: maybe ? 'unknown' : 'failed',
        error: err instanceof Error ? err.message : 'error',
      },
      'sms: code not confirmed sent',
    );
    throw err;
  }
  await deps.store.sms.setStatus(id, 'sent');
  deps.log.info(logged, 'sms: code sent');
  return { expiresAt };
}

const INVALID = 'the code is wrong, expired, already used or replaced, or had too many wrong tries';

/**
 * `POST /v1/sms/{name}/codes/verify`: true once for the newest live code of (phone, scene); a
 * wrong code counts a try (5 kill it). Every failure is the same 400 `CODE_INVALID`.
 */
export async function verifyCode(
  deps: SmsDeps,
  name: string,
  input: { phone: string; scene: string; code: string },
): Promise<void> {
  const phone = normalizePhone(input.phone);
  checkScene(input.scene);
  if (!/^\d{4,8}$/.test(input.code))
    throw new AppError('BAD_REQUEST', 'code must be 4 to 8 digits');
  const sender = await requireSmsSender(deps.store, name);
  const t = targetOf(sender.name, phone, input.scene);
  const now = deps.clock.now();
  const live = await deps.store.sms.liveCode(t, now);
  if (live === undefined) throw new AppError('CODE_INVALID', INVALID);
  const given = Buffer.from(codeHashOf(t, input.code));
  if (!timingSafeEqual(given, Buffer.from(live.codeHash))) {
    await deps.store.sms.fail(live.id);
    throw new AppError('CODE_INVALID', INVALID);
  }
  if (!(await deps.store.sms.consume(live.id, now))) throw new AppError('CODE_INVALID', INVALID);
}
