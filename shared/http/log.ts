import type { LogLevel } from '../config';

/** Where log lines go: anything with a `write(line)` (process.stdout, a test's collector). */
export interface DestinationStream {
  write(line: string): unknown;
}

type LogFn = {
  (fields: object, msg?: string): void;
  (msg: string): void;
};

/** A JSON-lines logger: one line per call, secrets redacted by field name. */
export interface Logger {
  /** Lines below this level are dropped; may be changed at run time. */
  level: LogLevel;
  isLevelEnabled(level: Exclude<LogLevel, 'silent'>): boolean;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger whose lines also carry `bindings` (after its parent's), at this logger's level. */
  child(bindings: Record<string, unknown>): Logger;
}

// pino's numbers, so a line reads the same to tools built for pino's levels.
const LEVELS: Record<LogLevel, number> = {
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  silent: Number.POSITIVE_INFINITY,
};

// Field names whose values are never written to a log, at any depth.
const SECRET_FIELDS = new Set([
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
]);
const CENSOR = '[redacted]';

// Field names holding a phone number: written with the middle masked (`138****5678`).
const PHONE_FIELDS = new Set(['phone', 'phoneNumber', 'purePhoneNumber']);

/**
 * A phone number with its middle masked, as China's apps show one: the first 3 and last 4
 * digits of 11 (`138****5678`); a shorter one keeps a third at each end, at most.
 *
 * @example maskPhone('+86 13812345678') // '+86 138****5678'
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '').length;
  const head = digits >= 11 ? 3 : Math.floor(digits / 3);
  const tail = digits >= 11 ? 4 : Math.floor(digits / 3);
  let seen = 0;
  return phone.replace(/\d/g, (d) => {
    seen += 1;
    // The country code of a `+86 …` number is not part of the 11 digits.
    const pos = seen - (digits - (digits >= 11 ? 11 : digits));
    return pos > head && pos <= (digits >= 11 ? 11 : digits) - tail ? '*' : d;
  });
}

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
 * A `JSON.stringify` replacer that censors secret fields, writes errors as
 * `{type, message, stack}`, bigints as numbers' digits and a reference back to an enclosing
 * object as `"[Circular]"` (a line is always written, never a throw).
 */
function lineReplacer(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, key, value) {
    if (key !== '' && SECRET_FIELDS.has(key) && value !== undefined) return CENSOR;
    if (PHONE_FIELDS.has(key) && (typeof value === 'string' || typeof value === 'number')) {
      return maskPhone(String(value));
    }
    if (typeof value === 'bigint') return value.toString();
    if (typeof value !== 'object' || value === null) return value;
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(value)) return '[Circular]';
    ancestors.push(value);
    if (value instanceof Error) {
      const { name, message, stack } = value;
      return { type: name, message, stack };
    }
    return value;
  };
}

/** `,"k":v` for each own field of `fields` with a defined value (the line's middle part). */
function serialiseFields(fields: object): string {
  const json = JSON.stringify(fields, lineReplacer());
  // `{}` (nothing defined) adds nothing; otherwise drop the braces and lead with a comma.
  return json === undefined || json.length <= 2 ? '' : `,${json.slice(1, -1)}`;
}

// What `createAccessLog` needs from a logger made here (others get the generic path).
const internals = new WeakMap<Logger, { stream: DestinationStream; bindings: string }>();

function makeLogger(level: LogLevel, stream: DestinationStream, bindings: string): Logger {
  let threshold = LEVELS[level];
  let current = level;
  const method = (label: Exclude<LogLevel, 'silent'>): LogFn => {
    const value = LEVELS[label];
    return (first: object | string, msg?: string) => {
      if (value < threshold) return;
      const fields = typeof first === 'string' ? '' : serialiseFields(first);
      const text = typeof first === 'string' ? first : msg;
      stream.write(
        `{"level":"${label}"${isoTime()}${bindings}${fields}${
          text === undefined ? '' : `,"msg":${JSON.stringify(text)}`
        }}\n`,
      );
    };
  };
  const logger: Logger = {
    get level() {
      return current;
    },
    set level(next: LogLevel) {
      if (!(next in LEVELS)) throw new Error(`unknown log level ${String(next)}`);
      current = next;
      threshold = LEVELS[next];
    },
    isLevelEnabled: (l) => LEVELS[l] >= threshold,
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    child: (more) => makeLogger(current, stream, bindings + serialiseFields(more)),
  };
  internals.set(logger, { stream, bindings });
  return logger;
}

/**
 * JSON lines on stdout with secrets and tokens redacted by field name: `level` (label), `time`,
 * `service`, the child bindings, the fields, `msg` — the lines pino wrote with the same settings.
 *
 * @example createLogger('info').info({ app: 'oa', accessToken: 't' }, 'refreshed') // token → "[redacted]"
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  if (!(level in LEVELS)) throw new Error(`unknown log level ${String(level)}`);
  return makeLogger(level, destination ?? process.stdout, ',"service":"wxhub"');
}

/** Longest request path (or other text from a request) written to a log line whole. */
export const LOGGED_TEXT_MAX = 256;

/**
 * `text` as a log line may carry it: at most `max` characters, then `…[+N]` saying how many were
 * cut, so a flood of 8 KB URLs writes short lines.
 */
export function cutForLog(text: string, max = LOGGED_TEXT_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[+${text.length - max}]`;
}

/** The fixed fields of the one line logged per request. */
export interface AccessFields {
  requestId: string;
  method: string;
  /** Path without the query (cut by {@link cutForLog} when written). */
  path: string;
  status: number;
  ms: number;
}

/**
 * Writes the per-request access line of `log` the way `log.info(fields, 'request')` would (same
 * bytes), without the generic serialiser: the fields are fixed and carry no secrets, so there is
 * nothing to redact, and on a cached token read that serialiser cost about as much as the rest of
 * the request. The level is checked per line, so a level changed at run time is honoured.
 */
export function createAccessLog(log: Logger): (fields: AccessFields) => void {
  const own = internals.get(log);
  if (own === undefined) {
    return (f) =>
      log.info({ ...f, method: cutForLog(f.method, 32), path: cutForLog(f.path) }, 'request');
  }
  const { stream, bindings } = own;
  return (f) => {
    if (!log.isLevelEnabled('info')) return;
    stream.write(
      `{"level":"info"${isoTime()}${bindings},"requestId":${JSON.stringify(f.requestId)},` +
        `"method":${JSON.stringify(cutForLog(f.method, 32))},` +
        `"path":${JSON.stringify(cutForLog(f.path))},` +
        `"status":${f.status},"ms":${f.ms},"msg":"request"}\n`,
    );
  };
}

const SECRET_QUERY =
  /([?&](?:access_token|secret|appsecret|component_access_token|js_code|code|ticket|wxhub_ticket)=)[^&#]*/gi;

/** A URL or path safe to log: the values of secret-bearing query parameters are masked. */
export function safeUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1***');
}

/** A URL inside free text: scheme, `//`, then up to a space, quote or bracket. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi;

/**
 * `text` with every URL in it cut to `scheme://host/path`: user info, query and fragment may hold
 * credentials (a forward target's `user:password` or `?key=`), and an error message may repeat
 * its URL (Node's fetch does).
 */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (m) => {
    try {
      const u = new URL(m);
      return `${u.protocol}//${u.host}${u.pathname}`;
    } catch {
      return m.replace(/\/\/[^/?#]*@/, '//').replace(/[?#].*$/, '');
    }
  });
}
