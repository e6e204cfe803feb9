import * as v from 'valibot';
import { declareRoute } from '../../shared/http/routes';
import { isoTime, SECRET_ERRORS, text } from '../../shared/http/schemas';

/** Declarations of the SMS code and COS upload routes (docs/api.md, "Operations"). */

const NameParams = v.object({ name: text('sender or bucket name (apps file)') });
const BODY = 'body must be JSON';
const phone = v.pipe(
  v.string('phone must be a string'),
  v.maxLength(32),
  v.description('the phone number'),
);
const scene = v.pipe(
  v.string('scene must be a string'),
  v.regex(/^[a-z0-9_-]{1,32}$/, 'scene must match [a-z0-9_-]{1,32}'),
  v.description('what the code is for (login, reset…): a code verifies for its scene only'),
);

export const smsSendCode = declareRoute({
  method: 'POST',
  path: '/v1/sms/{name}/codes',
  tag: 'signing',
  summary: 'Send an SMS verification code (Aliyun SendSms)',
  description:
    'A random 6-digit code, valid 5 minutes; only its hash is stored. Limits per phone number ' +
    '(default 1 a minute, 5 an hour, 10 a day) and per phone and scene answer 429. SendSms is ' +
    'never retried: a 504 means the SMS may have been sent, and the code stays valid.',
  params: NameParams,
  body: v.object({ phone, scene }, BODY),
  responses: {
    200: {
      description: 'sent',
      schema: v.object({ sent: v.literal(true), expiresAt: isoTime('when the code expires') }),
    },
  },
  errors: [
    'NOT_FOUND',
    'BAD_REQUEST',
    'RATE_LIMITED',
    'UPSTREAM_WECHAT',
    'UPSTREAM_TIMEOUT',
    'UNAVAILABLE',
    ...SECRET_ERRORS,
  ],
});

export const smsVerifyCode = declareRoute({
  method: 'POST',
  path: '/v1/sms/{name}/codes/verify',
  tag: 'signing',
  summary: 'Check an SMS verification code, once',
  description:
    'Valid once; a wrong code counts a try and 5 wrong tries kill the code. Every refusal is ' +
    '400 `CODE_INVALID`.',
  params: NameParams,
  body: v.object(
    {
      phone,
      scene,
      code: v.pipe(v.string('code must be a string'), v.description('the code the user typed')),
    },
    BODY,
  ),
  responses: { 200: { description: 'valid', schema: v.object({ valid: v.literal(true) }) } },
  errors: ['NOT_FOUND', 'BAD_REQUEST', 'CODE_INVALID', ...SECRET_ERRORS],
});

export const cosUpload = declareRoute({
  method: 'POST',
  path: '/v1/cos/{name}/upload',
  tag: 'signing',
  summary: 'A pre-signed Tencent COS upload (PUT)',
  description:
    "Signed with the bucket's key (`q-sign-algorithm=sha1`, in the URL's query) for a key under " +
    "the bucket's prefix only. `contentType` and `maxBytes` are signed as the upload's " +
    '`Content-Type` and exact `Content-Length`: send the answered `headers` with it.',
  params: NameParams,
  body: v.object(
    {
      key: v.pipe(
        v.string('key must be a string'),
        v.description('the object key, under the prefix'),
      ),
      contentType: v.optional(
        v.pipe(v.string(), v.regex(/^[\w.+-]+\/[\w.+-]+$/, 'contentType must be a MIME type')),
      ),
      maxBytes: v.optional(
        v.pipe(
          v.number(),
          v.integer('maxBytes must be a whole number'),
          v.minValue(1, 'maxBytes must be at least 1'),
        ),
      ),
    },
    BODY,
  ),
  responses: {
    200: {
      description: 'the signed upload',
      schema: v.object({
        url: v.string(),
        method: v.literal('PUT'),
        headers: v.record(v.string(), v.string()),
        expiresAt: isoTime('when the signature expires'),
      }),
    },
  },
  errors: ['NOT_FOUND', 'BAD_REQUEST', ...SECRET_ERRORS],
});

export const SIGNING_ROUTES = [smsSendCode, smsVerifyCode, cosUpload];
