import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { AppError } from '../http/errors';
import type { Logger } from '../http/log';
import type { AdminSessionRecord, Store } from '../store';
import { USER_NAME_MAX } from '../store/admin';
import { LOCK_FAILURES, LOCK_WINDOW_MS } from './lockout';
import { verifyNothing, verifyPassword } from './password';
import { ensureEnvAdmin, isConsoleAdmin } from './users';

export type SessionDeps = {
  config: Pick<Config, 'admin' | 'adminSessionIdleSeconds' | 'adminSessionMaxSeconds'>;
  store: Pick<Store, 'admin'>;
  clock: Clock;
  log: Logger;
};

export { LOCK_FAILURES, LOCK_WINDOW_MS };
/** `last_seen_at` is written at most this often per session, so reads stay reads. */
export const TOUCH_EVERY_MS = 60_000;

/** The SHA-256 (hex) of a token: what the database keeps of session tokens and API keys. */
export const sha256 = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');

const newToken = (): string => randomBytes(32).toString('base64url');

/** A signed-in session: its admin, CSRF token and when it ends unless used again. */
export interface ActiveSession {
  actor: { id: number; name: string };
  csrfToken: string;
  /** The earlier of the idle and the absolute expiry (epoch ms). */
  expiresAt: number;
  tokenHash: string;
}

export interface NewSession {
  token: string;
  actor: { id: number; name: string };
  expiresAt: number;
}

/**
 * Checks a login. Unknown user and wrong password answer the same `BAD_LOGIN` after the same
 * work. Each attempt is recorded (counted in the database, so every instance sees it) before its
 * password is checked, with its rank among the user name's attempts within
 * {@link LOCK_WINDOW_MS}: only the first {@link LOCK_FAILURES} are checked, so a burst of
 * parallel guesses gets no more; a later one answers `LOCKED` without looking at the password
 * (and once 5 are stored, without storing another) until they age out. A right password forgets
 * its own attempt. The lockout is logged once, with the user name and IP.
 */
export async function login(
  deps: SessionDeps,
  name: string,
  password: string,
  ip: string | undefined,
): Promise<NewSession> {
  await ensureEnvAdmin(deps);
  const now = deps.clock.now();
  const since = now - LOCK_WINDOW_MS;
  const user = name.slice(0, USER_NAME_MAX);
  const locked = () => new AppError('LOCKED', 'too many failed logins; try again later');
  const admin = deps.store.admin;
  // Already locked: no row added, so a locked name costs one indexed count per try.
  if ((await admin.countLoginFailures(user, since)) >= LOCK_FAILURES) throw locked();
  const attempt = await admin.addLoginAttempt(user, now, ip, since);
  if (attempt.rank > LOCK_FAILURES) throw locked();
  const found = name.length > USER_NAME_MAX ? undefined : await admin.userByName(name);
  const allowed = found !== undefined && isConsoleAdmin(deps.config, found);
  const ok = !allowed
    ? await verifyNothing(password)
    : await verifyPassword(password, found.passwordHash);
  if (!ok || !allowed) {
    // Exactly one attempt is the 5th, however many arrive at once on however many instances.
    if (attempt.rank === LOCK_FAILURES) {
      deps.log.warn(
        { user, ip: ip ?? null, failures: attempt.rank },
        'admin login locked: too many failures',
      );
      throw locked();
    }
    throw new AppError('BAD_LOGIN', 'wrong user name or password');
  }
  await admin.deleteLoginAttempt(attempt.id);
  const token = newToken();
  const expiresAt = now + deps.config.adminSessionMaxSeconds * 1000;
  await deps.store.admin.createSession({
    tokenHash: sha256(token),
    userId: found.id,
    csrfToken: newToken(),
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
  });
  // Expired sessions of anyone go a few at a time, so the table never grows without bound.
  await deps.store.admin.purgeSessions(now, 100);
  return {
    token,
    actor: { id: found.id, name: found.name },
    expiresAt: Math.min(expiresAt, now + deps.config.adminSessionIdleSeconds * 1000),
  };
}

/**
 * The live session of cookie `token`, or undefined. An expired one (idle or absolute) is deleted
 * here; a live one's `last_seen_at` moves at most once per {@link TOUCH_EVERY_MS}.
 */
export async function activeSession(
  deps: SessionDeps,
  token: string,
): Promise<ActiveSession | undefined> {
  if (token.length < 16 || token.length > 128) return undefined;
  const tokenHash = sha256(token);
  const s = await deps.store.admin.session(tokenHash);
  if (s === undefined) return undefined;
  const now = deps.clock.now();
  if (now >= idleEnd(deps, s) || now >= s.expiresAt) {
    await deps.store.admin.deleteSession(tokenHash);
    return undefined;
  }
  const user = await deps.store.admin.userById(s.userId);
  if (user === undefined || !isConsoleAdmin(deps.config, user)) {
    await deps.store.admin.deleteSession(tokenHash);
    return undefined;
  }
  let lastSeen = s.lastSeenAt;
  if (now - s.lastSeenAt >= TOUCH_EVERY_MS) {
    await deps.store.admin.touchSession(tokenHash, now);
    lastSeen = now;
  }
  return {
    actor: { id: user.id, name: user.name },
    csrfToken: s.csrfToken,
    expiresAt: Math.min(s.expiresAt, lastSeen + deps.config.adminSessionIdleSeconds * 1000),
    tokenHash,
  };
}

const idleEnd = (deps: SessionDeps, s: AdminSessionRecord) =>
  s.lastSeenAt + deps.config.adminSessionIdleSeconds * 1000;

/** Deletes the session of cookie `token` (if any). */
export async function logout(deps: SessionDeps, token: string): Promise<void> {
  await deps.store.admin.deleteSession(sha256(token));
}

/** Whether `presented` is the session's CSRF token (constant time). */
export function csrfMatches(session: ActiveSession, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(sha256(presented), 'hex');
  const b = Buffer.from(sha256(session.csrfToken), 'hex');
  return timingSafeEqual(a, b);
}
