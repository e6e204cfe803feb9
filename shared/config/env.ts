import * as z from 'zod/mini';
import './zod-locale';

/** Log levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const urlBase = z.pipe(
  z
    .string()
    .check(z.refine((v) => /^https?:\/\/[^\s/]+/.test(v), { message: 'must be an http(s) URL' })),
  z.transform((v) => v.replace(/\/+$/, '')),
);

const flag = z.pipe(
  z.enum(['0', '1', 'true', 'false']),
  z.transform((v) => v === '1' || v === 'true'),
);

const wholeNumber = (min: number, max: number) =>
  z.pipe(
    z.string().check(z.regex(/^\d+$/, { message: 'must be a whole number' })),
    z.pipe(
      z.transform(Number),
      z
        .number()
        .check(
          z.refine((n) => n >= min && n <= max, { message: `must be between ${min} and ${max}` }),
        ),
    ),
  );
const positiveInt = (max: number) => wholeNumber(1, max);

/**
 * The environment as wxhub reads it: every variable of the public contract (api.md) plus a few
 * extensions. Values stay strings here; {@link parseConfig} turns them into a {@link Config}.
 */
export const envSchema = z.object({
  DATABASE_URL: z.optional(
    z.string().check(
      z.refine((v) => /^mysql:\/\/[^\s]+$/.test(v) || /^file:.+/.test(v), {
        message: 'must be mysql://user:pass@host:port/db or file:path.db',
      }),
    ),
  ),
  MYSQL_ADDRESS: z.optional(
    z.string().check(z.regex(/^[^\s:]+(:\d{1,5})?$/, { message: 'must be host:port' })),
  ),
  MYSQL_USERNAME: z.optional(z.string().check(z.minLength(1))),
  MYSQL_PASSWORD: z.optional(z.string()),
  MYSQL_DATABASE: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9_$-]{1,64}$/, { message: 'must be a database name' })),
  ),
  WXHUB_APPS: z.optional(z.string().check(z.minLength(1))),
  WXHUB_API_KEYS: z.optional(
    z.pipe(
      z.string(),
      z.pipe(
        z.transform((v: string) =>
          v
            .split(',')
            .map((k) => k.trim())
            .filter((k) => k.length > 0),
        ),
        z.array(z.string()).check(
          z.refine((keys) => keys.every((k) => k.length >= 16), {
            message: 'each key must be at least 16 characters',
          }),
        ),
      ),
    ),
  ),
  WXHUB_TRUST_WX_SOURCE: z._default(flag, false),
  WXHUB_SECRET_KEY: z.optional(z.string().check(z.minLength(1))),
  WECHAT_API_BASE: z._default(urlBase, 'https://api.weixin.qq.com'),
  WECHATPAY_API_BASE: z._default(urlBase, 'https://api.mch.weixin.qq.com'),
  WXHUB_PUBLIC_URL: z.optional(urlBase),
  WXHUB_REFRESH_AHEAD_SECONDS: z.optional(positiveInt(6000)),
  WXHUB_REFRESH_INTERVAL_SECONDS: z._default(positiveInt(3600), 60),
  WXHUB_PROXY_TIMEOUT_MS: z._default(positiveInt(120_000), 15_000),
  WXHUB_CALLBACK_MAX_SKEW_SECONDS: z._default(positiveInt(86_400), 300),
  WXHUB_FORWARD_BUDGET_MS: z._default(wholeNumber(100, 4_500), 4_000),
  WXHUB_OUTBOX_MAX_ATTEMPTS: z._default(positiveInt(100), 10),
  WXHUB_MESSAGE_RETENTION_DAYS: z._default(wholeNumber(0, 3_650), 30),
  WXHUB_BODY_LIMIT_BYTES: z._default(positiveInt(50 * 1024 * 1024), 1024 * 1024),
  WXHUB_DATA_DIR: z._default(z.string().check(z.minLength(1)), '.data'),
  // 0 picks any free port (tests).
  PORT: z.optional(wholeNumber(0, 65535)),
  LOG_LEVEL: z._default(z.enum(LOG_LEVELS), 'info'),
});

export type Env = z.infer<typeof envSchema>;
