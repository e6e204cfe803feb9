import {
  type Check,
  int,
  matches,
  maxLength,
  minLength,
  object,
  optional,
  refine,
  str,
  withDefault,
} from './validate';

/**
 * The apps file's `sms` senders and `cos` buckets (docs/api.md, "Operations"): each named like an
 * app, holding keys the hub signs with. Checked here, away from the app kinds.
 */

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const name = str(
  matches(NAME, 'must match [a-z0-9][a-z0-9_-]{0,63} (lower case, digits, _ and -)'),
);
const secret = str(minLength(1, 'must not be empty'), maxLength(256));

/** Sends allowed to one phone number in each window (a sliding minute, hour, day). */
export interface SmsLimits {
  perMinute: number;
  perHour: number;
  perDay: number;
}

export const DEFAULT_SMS_LIMITS: SmsLimits = { perMinute: 1, perHour: 5, perDay: 10 };

const limits: Check<SmsLimits> = object(
  {
    perMinute: withDefault(int(1, 100), DEFAULT_SMS_LIMITS.perMinute),
    perHour: withDefault(int(1, 1000), DEFAULT_SMS_LIMITS.perHour),
    perDay: withDefault(int(1, 10_000), DEFAULT_SMS_LIMITS.perDay),
  },
  { strict: true },
);

/** One Aliyun SMS sender of the apps file. */
export interface SmsSenderConfig {
  name: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** An approved signature (签名). */
  signName: string;
  /** An approved template with one variable for the code, e.g. `SMS_15305xxxx`. */
  templateCode: string;
  /** The template's variable that gets the code (`TemplateParam`); `code` by default. */
  codeParam: string;
  /** Per phone, whatever the scene. */
  limits: SmsLimits;
  /** Per phone and scene; the sender's `limits` by default. */
  sceneLimits?: SmsLimits;
}

export const smsSenderSchema: Check<SmsSenderConfig> = object(
  {
    name,
    accessKeyId: str(matches(/^[A-Za-z0-9]{8,64}$/, 'must be an AccessKey ID (letters, digits)')),
    accessKeySecret: secret,
    signName: str(minLength(1, 'must not be empty'), maxLength(64)),
    templateCode: str(
      matches(/^SMS_[0-9A-Za-z]{1,32}$/, 'must be a template code such as SMS_153055065'),
    ),
    codeParam: withDefault(
      str(matches(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'must be a template variable name')),
      'code',
    ),
    limits: withDefault(limits, DEFAULT_SMS_LIMITS),
    sceneLimits: optional(limits),
  },
  { strict: true },
);

/** One Tencent COS bucket of the apps file: uploads are signed for keys under `prefix` only. */
export interface CosBucketConfig {
  name: string;
  secretId: string;
  secretKey: string;
  /** `<name>-<appid>`, e.g. `examplebucket-1250000000`. */
  bucket: string;
  region: string;
  /** Keys must start with it (`uploads/`); empty allows the whole bucket. */
  prefix: string;
  /** Largest `maxBytes` a caller may ask for (the signed `Content-Length`). */
  maxBytes: number;
  /** Life of a signed URL, in seconds. */
  expiresSeconds: number;
}

export const cosBucketSchema: Check<CosBucketConfig> = object(
  {
    name,
    secretId: str(matches(/^[A-Za-z0-9]{8,64}$/, 'must be a SecretId (letters, digits)')),
    secretKey: secret,
    bucket: str(
      matches(
        /^[a-z0-9][a-z0-9-]{0,48}-\d{6,12}$/,
        'must be <bucket name>-<appid>, e.g. examplebucket-1250000000',
      ),
    ),
    region: str(
      matches(/^[a-z]{2,}-[a-z0-9-]{2,32}$/, 'must be a COS region such as ap-guangzhou'),
    ),
    prefix: withDefault(
      str(
        maxLength(512),
        refine(
          (v) => v === '' || (/^[^/]/.test(v) && v.endsWith('/') && !v.split('/').includes('..')),
          'must be empty or a relative folder ending in "/", e.g. uploads/',
        ),
      ),
      '',
    ),
    maxBytes: withDefault(int(1, 5 * 1024 * 1024 * 1024), 20 * 1024 * 1024),
    expiresSeconds: withDefault(int(60, 3600), 600),
  },
  { strict: true },
);
