import type { DestinationStream, Logger } from 'pino';
import { pino, symbols } from 'pino';
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

const timestamp = (): string => isoTime();
const levelLabel = (label: string): { level: string } => ({ level: label });

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
      timestamp,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: levelLabel },
    },
    destination ?? process.stdout,
  );
}

/** The fixed fields of the one line logged per request. */
export interface AccessFields {
  requestId: string;
  method: string;
  /** Path without the query. */
  path: string;
  status: number;
  ms: number;
}

/**
 * Writes the per-request access line of `log` the way `log.info(fields, 'request')` would (same
 * bytes: level, time, the logger's bindings, the fields, `msg`), without going through pino's
 * generic serialiser: on a cached token read that serialiser cost about as much as the rest of
 * the request. The fields are fixed and carry no secrets, so redaction has nothing to do here.
 * The level is checked per line, so a level changed at run time is honoured.
 */
export function createAccessLog(log: Logger): (fields: AccessFields) => void {
  const internals = log as unknown as Record<symbol, unknown>;
  const stream = internals[symbols.streamSym] as DestinationStream | undefined;
  const bindings = internals[symbols.chindingsSym];
  const formatters = internals[symbols.formattersSym] as { level?: unknown } | undefined;
  if (
    typeof stream?.write !== 'function' ||
    typeof bindings !== 'string' ||
    internals[symbols.timeSym] !== timestamp ||
    formatters?.level !== levelLabel
  ) {
    // Not a logger from createLogger (or one of its children): let pino write the line.
    return (fields) => log.info(fields, 'request');
  }
  return (f) => {
    if (!log.isLevelEnabled('info')) return;
    stream.write(
      `{"level":"info"${isoTime()}${bindings},"requestId":${JSON.stringify(f.requestId)},` +
        `"method":${JSON.stringify(f.method)},"path":${JSON.stringify(f.path)},` +
        `"status":${f.status},"ms":${f.ms},"msg":"request"}\n`,
    );
  };
}

const SECRET_QUERY =
  /([?&](?:access_token|secret|appsecret|component_access_token|js_code|code|ticket)=)[^&#]*/gi;

/** A URL or path safe to log: the values of secret-bearing query parameters are masked. */
export function safeUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1***');
}
