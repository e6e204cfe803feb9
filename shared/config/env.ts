import { EXPOSURES } from '../http/exposure';
import {
  type Check,
  map,
  matches,
  minLength,
  object,
  oneOf,
  optional,
  type Parsed,
  refine,
  str,
  where,
  withDefault,
} from './validate';

/** Log levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const urlBase = map(
  str(refine((v) => /^https?:\/\/[^\s/]+/.test(v), 'must be an http(s) URL')),
  (v) => v.replace(/\/+$/, ''),
);

const flag = map(oneOf(['0', '1', 'true', 'false']), (v) => v === '1' || v === 'true');

const wholeNumber = (min: number, max: number): Check<number> =>
  where(
    map(str(matches(/^\d+$/, 'must be a whole number')), Number),
    refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`),
  );
const positiveInt = (max: number) => wholeNumber(1, max);

const apiKeys = map(str(), (v) =>
  v
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0),
);

/**
 * The environment as wxhub reads it: every variable of the public contract (docs/api.md).
 * Values stay strings here; {@link parseConfig} turns them into a {@link Config}.
 */
export const ENV_SHAPE = {
  DATABASE_URL: optional(
    str(
      refine(
        (v) => /^mysql:\/\/[^\s]+$/.test(v) || /^file:.+/.test(v),
        'must be mysql://user:pass@host:port/db or file:path.db',
      ),
    ),
  ),
  MYSQL_ADDRESS: optional(str(matches(/^[^\s:]+(:\d{1,5})?$/, 'must be host:port'))),
  MYSQL_USERNAME: optional(str(minLength(1))),
  MYSQL_PASSWORD: optional(str()),
  MYSQL_DATABASE: optional(str(matches(/^[A-Za-z0-9_$-]{1,64}$/, 'must be a database name'))),
  WXHUB_APPS: optional(str(minLength(1))),
  WXHUB_API_KEYS: optional(
    where(
      apiKeys,
      refine(
        (keys) => keys.every((k) => k.length >= 16),
        'each key must be at least 16 characters',
      ),
    ),
  ),
  WXHUB_TRUST_WX_SOURCE: withDefault(flag, false),
  WXHUB_EXPOSE: withDefault(oneOf(EXPOSURES), 'all'),
  WXHUB_SECRET_KEY: optional(str(minLength(1))),
  WECHAT_API_BASE: withDefault(urlBase, 'https://api.weixin.qq.com'),
  WECHATPAY_API_BASE: withDefault(urlBase, 'https://api.mch.weixin.qq.com'),
  WECHAT_MP_BASE: withDefault(urlBase, 'https://mp.weixin.qq.com'),
  WECHAT_OPEN_BASE: withDefault(urlBase, 'https://open.weixin.qq.com'),
  WECOM_API_BASE: withDefault(urlBase, 'https://qyapi.weixin.qq.com'),
  WXHUB_PUBLIC_URL: optional(urlBase),
  WXHUB_REFRESH_AHEAD_SECONDS: optional(positiveInt(6000)),
  WXHUB_REFRESH_INTERVAL_SECONDS: withDefault(positiveInt(3600), 60),
  WXHUB_PROXY_TIMEOUT_MS: withDefault(positiveInt(120_000), 15_000),
  WXHUB_CALLBACK_MAX_SKEW_SECONDS: withDefault(positiveInt(86_400), 300),
  WXHUB_FORWARD_BUDGET_MS: withDefault(wholeNumber(100, 4_500), 4_000),
  WXHUB_OUTBOX_MAX_ATTEMPTS: withDefault(positiveInt(100), 10),
  WXHUB_MESSAGE_RETENTION_DAYS: withDefault(wholeNumber(0, 3_650), 30),
  WXHUB_BODY_LIMIT_BYTES: withDefault(positiveInt(50 * 1024 * 1024), 1024 * 1024),
  // Media uploads through the proxies: WeChat takes images and videos up to 10 MB.
  WXHUB_PROXY_BODY_LIMIT_BYTES: withDefault(positiveInt(200 * 1024 * 1024), 20 * 1024 * 1024),
  WXHUB_PROXY_MAX_BYTES: withDefault(positiveInt(1024 * 1024 * 1024), 64 * 1024 * 1024),
  // The console's first admin (both or neither; config.ts checks the pair).
  WXHUB_ADMIN_USER: optional(
    str(matches(/^[A-Za-z0-9._@-]{1,64}$/, 'must be 1 to 64 letters, digits or . _ @ -')),
  ),
  WXHUB_ADMIN_PASSWORD: optional(str(minLength(12, 'must be at least 12 characters'))),
  WXHUB_ADMIN_SESSION_IDLE_SECONDS: withDefault(wholeNumber(60, 86_400), 1_800),
  WXHUB_ADMIN_SESSION_MAX_SECONDS: withDefault(wholeNumber(300, 30 * 86_400), 43_200),
  // Session JWTs of `POST /v1/apps/{app}/login` (defaults in shared/sessions/config.ts).
  WXHUB_JWT_ISSUER: optional(str(minLength(1))),
  WXHUB_JWT_TTL_SECONDS: optional(wholeNumber(60, 7 * 86_400)),
  WXHUB_JWT_KEY_ROTATION_DAYS: optional(positiveInt(365)),
  WXHUB_DATA_DIR: withDefault(str(minLength(1)), '.data'),
  // 0 picks any free port (tests).
  PORT: optional(wholeNumber(0, 65535)),
  LOG_LEVEL: withDefault(oneOf(LOG_LEVELS), 'info'),
};

/** Every environment variable wxhub reads. */
export const ENV_KEYS: readonly string[] = Object.keys(ENV_SHAPE);

/** Checks the environment's variables (others are ignored). */
export const checkEnv = object(ENV_SHAPE, { strict: false });

export type Env = Parsed<typeof ENV_SHAPE>;
