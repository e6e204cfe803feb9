import type { Logger } from 'pino';
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

/**
 * JSON logs on stdout (pino), with secrets and tokens redacted by field name.
 *
 * @example createLogger('info').info({ app: 'oa', accessToken: 't' }, 'refreshed') // token → "[redacted]"
 */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'wxhub' },
      timestamp: pino.stdTimeFunctions.isoTime,
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
