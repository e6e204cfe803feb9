import { z } from 'zod';

/** Log levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const urlBase = z
  .string()
  .refine((v) => /^https?:\/\/[^\s/]+/.test(v), { message: 'must be an http(s) URL' })
  .transform((v) => v.replace(/\/+$/, ''));

const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `must be between ${min} and ${max}` });
const positiveInt = (max: number) => wholeNumber(1, max);

/**
 * The environment as wxhub reads it: every variable of the public contract (api.md) plus a few
 * extensions. Values stay strings here; {@link parseConfig} turns them into a {@link Config}.
 */
export const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .refine((v) => /^mysql:\/\/[^\s]+$/.test(v) || /^file:.+/.test(v), {
      message: 'must be mysql://user:pass@host:port/db or file:path.db',
    })
    .optional(),
  MYSQL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+(:\d{1,5})?$/, { message: 'must be host:port' })
    .optional(),
  MYSQL_USERNAME: z.string().min(1).optional(),
  MYSQL_PASSWORD: z.string().optional(),
  MYSQL_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_$-]{1,64}$/, { message: 'must be a database name' })
    .optional(),
  WXHUB_APPS: z.string().min(1).optional(),
  WXHUB_API_KEYS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k.length > 0),
    )
    .refine((keys) => keys.every((k) => k.length >= 16), {
      message: 'each key must be at least 16 characters',
    })
    .optional(),
  WXHUB_TRUST_WX_SOURCE: flag.default(false),
  WXHUB_SECRET_KEY: z.string().min(1).optional(),
  WECHAT_API_BASE: urlBase.default('https://api.weixin.qq.com'),
  WECHATPAY_API_BASE: urlBase.default('https://api.mch.weixin.qq.com'),
  WXHUB_PUBLIC_URL: urlBase.optional(),
  WXHUB_REFRESH_AHEAD_SECONDS: positiveInt(6000).optional(),
  WXHUB_REFRESH_INTERVAL_SECONDS: positiveInt(3600).default(60),
  WXHUB_PROXY_TIMEOUT_MS: positiveInt(120_000).default(15_000),
  WXHUB_CALLBACK_MAX_SKEW_SECONDS: positiveInt(86_400).default(300),
  WXHUB_FORWARD_BUDGET_MS: wholeNumber(100, 4_500).default(4_000),
  WXHUB_OUTBOX_MAX_ATTEMPTS: positiveInt(100).default(10),
  WXHUB_MESSAGE_RETENTION_DAYS: wholeNumber(0, 3_650).default(30),
  WXHUB_BODY_LIMIT_BYTES: positiveInt(50 * 1024 * 1024).default(1024 * 1024),
  WXHUB_DATA_DIR: z.string().min(1).default('.data'),
  // 0 picks any free port (tests).
  PORT: wholeNumber(0, 65535).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

export type Env = z.infer<typeof envSchema>;
