import { randomBytes } from 'node:crypto';
import type { SmsSenderConfig } from '../config/signing-entries';
import { AppError, isBranded } from '../http/errors';
import { acs3Authorization, canonicalQuery, contentSha256 } from './aliyun-v3';

/**
 * Aliyun `SendSms` (Dysmsapi 2017-05-25, https://help.aliyun.com/document_detail/55284.html),
 * signed with V3. Success is `Code: "OK"` (HTTP status alone says nothing).
 */
export const SEND_SMS_ACTION = 'SendSms';
export const SEND_SMS_VERSION = '2017-05-25';

export interface AliyunHttp {
  /** `ALIYUN_SMS_ENDPOINT`, e.g. `https://dysmsapi.aliyuncs.com`. */
  endpoint: string;
  fetch: typeof fetch;
  timeoutMs: number;
}

const SEND_SMS_ERROR = Symbol.for('wxhub.SendSmsError');

/** How a send ended when it did not end with `OK`. */
export class SendSmsError extends AppError {
  // Its own answer: AppError's would take every AppError for one of these.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, SEND_SMS_ERROR);
  }
  readonly [SEND_SMS_ERROR] = true;
  constructor(
    message: string,
    code: 'UPSTREAM_WECHAT' | 'UPSTREAM_TIMEOUT' | 'UNAVAILABLE',
    /** `maybe`: the request may have reached Aliyun (a timeout): the SMS may have gone out. */
    readonly delivered: 'no' | 'maybe',
    extra?: Record<string, unknown>,
  ) {
    super(code, message, extra);
  }
}

/** `x-acs-date`: ISO-8601 UTC to the second. */
const acsDate = (now: number) => new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Sends one templated SMS. Never retried here: SendSms is not idempotent, and a timed-out call
 * may still have been delivered ({@link SendSmsError.delivered} `maybe`).
 */
export async function sendSms(
  http: AliyunHttp,
  sender: SmsSenderConfig,
  phone: string,
  params: Record<string, string>,
  now: number,
): Promise<{ bizId: string }> {
  const url = new URL(`${http.endpoint}/`);
  const query = {
    PhoneNumbers: phone,
    SignName: sender.signName,
    TemplateCode: sender.templateCode,
    TemplateParam: JSON.stringify(params),
  };
  const headers: Record<string, string> = {
    host: url.host,
    'x-acs-action': SEND_SMS_ACTION,
    'x-acs-version': SEND_SMS_VERSION,
    'x-acs-date': acsDate(now),
    'x-acs-signature-nonce': randomBytes(16).toString('hex'),
    'x-acs-content-sha256': contentSha256(''),
  };
  const authorization = acs3Authorization(
    { method: 'POST', path: url.pathname, query, headers, body: '' },
    sender.accessKeyId,
    sender.accessKeySecret,
  );
  const { host: _sentByFetch, ...sent } = headers;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), http.timeoutMs);
  let status: number;
  let text: string;
  try {
    const res = await http.fetch(`${url.origin}${url.pathname}?${canonicalQuery(query)}`, {
      method: 'POST',
      headers: { ...sent, authorization },
      signal: abort.signal,
    });
    status = res.status;
    text = await res.text();
  } catch {
    if (abort.signal.aborted) {
      throw new SendSmsError(
        `Aliyun SMS did not answer within ${http.timeoutMs} ms; the SMS may have been sent, so it is not sent again`,
        'UPSTREAM_TIMEOUT',
        'maybe',
      );
    }
    throw new SendSmsError('Aliyun SMS is unreachable', 'UNAVAILABLE', 'no');
  } finally {
    clearTimeout(timer);
  }
  let body: { Code?: unknown; Message?: unknown; BizId?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not JSON: reported below with the status only.
  }
  if (body.Code === 'OK') return { bizId: typeof body.BizId === 'string' ? body.BizId : '' };
  const code = typeof body.Code === 'string' ? body.Code.slice(0, 64) : `HTTP ${status}`;
  const message = typeof body.Message === 'string' ? body.Message.slice(0, 200) : '';
  throw new SendSmsError(
    `Aliyun SMS ${code}${message ? `: ${message}` : ''}`,
    'UPSTREAM_WECHAT',
    'no',
    {
      aliyunCode: code,
    },
  );
}
