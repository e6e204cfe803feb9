import type { DestinationStream, Logger } from 'pino';
import { pino } from 'pino';
import type { LogLevel } from '../config';

export type { Logger } from 'pino';

// Field names whose values are never written to a log, at any of the first three levels.
const SECRET_FIELDS = [
  'appSecret',
  'secret',
  'accessToken',
  'access_token',
  'ticket',
  'token',
  'refreshToken',
  'password',
  'apiV3Key',
  'privateKey',
  'encodingAesKey',
  'authorization',
  'sessionKey',
  'session_key',
  'value',
];
const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * pino's `isoTime`, same output (`,"time":"2026-11-21T10:35:04.345Z"`), without formatting a
 * `Date` per line: the part up to the second is kept and only the milliseconds are appended.
 */
export function isoTime(now = Date.now()): string {
  const ms = now % 1000;
  const second = now - ms;
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second).toISOString().slice(0, 20);
  }
  return `,"time":"${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

/**
 * JSON logs on stdout (pino), with secrets and tokens redacted by field name.
 *
 * @example createLogger('info').info({ app: 'oa', accessToken: 't' }, 'refreshed') // token → "[redacted]"
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'wxhub' },
      timestamp: () => isoTime(),
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? process.stdout,
  );
}

const SECRET_QUERY =
  /([?&](?:access_token|secret|appsecret|component_access_token|js_code|code|ticket)=)[^&#]*/gi;

/** A URL or path safe to log: the values of secret-bearing query parameters are masked. */
export function safeUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1***');
}
