import { randomBytes } from 'node:crypto';

/** Number of random characters after the `NN_` prefix of a simulator access token. */
const TOKEN_BODY_LENGTH = 140;

/**
 * Shape of every simulator access token: two digits, `_`, then 140 chars of `[A-Za-z0-9_-]`
 * (real tokens look like `86_AbC…`, 130–160 chars). Anything else is rejected with 40014.
 */
export const TOKEN_PATTERN = /^\d{2}_[A-Za-z0-9_-]{140}$/;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** True when `value` has the simulator token shape (it may still be unknown or dead). */
export function isTokenShaped(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/** A fresh random access token string: `86_` + 140 base64url chars (143 chars in total). */
export function newAccessToken(): string {
  // 105 random bytes encode to exactly 140 base64url characters.
  const body = randomBytes((TOKEN_BODY_LENGTH / 4) * 3).toString('base64url');
  return `86_${body}`;
}

/** Random alphanumeric string of `length` chars. */
export function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALNUM[b % ALNUM.length] ?? 'A';
  return out;
}

/** A jsapi/wx_card ticket, shaped like WeChat's 86-char base64url tickets. */
export function newTicket(): string {
  return randomBytes(64).toString('base64url').slice(0, 86);
}

/** A `wx.login` js_code: 32 alphanumeric characters. */
export function newLoginCode(): string {
  return randomAlnum(32);
}

/** A session_key: base64 of 16 random bytes (24 chars), as WeChat returns it. */
export function newSessionKey(): string {
  return randomBytes(16).toString('base64');
}

/**
 * A WeChat-style request id: three dash-separated groups of 8 hex digits,
 * the first being the epoch seconds (e.g. `6523b3c0-2dcd7e3c-0a8e0fb7`).
 */
export function newRid(nowMs: number): string {
  const secs = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, '0')
    .slice(-8);
  return `${secs}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
}
