import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import type { SimClock } from './clock';
import type { CallCounters, FaultBook } from './faults';
import { waitFaultDelay } from './faults';

/**
 * Aliyun SMS (`dysmsapi`), served under `/aliyun-sms` (point `ALIYUN_SMS_ENDPOINT` at
 * `${sim.url}/aliyun-sms`). Every request's V3 signature (`ACS3-HMAC-SHA256`,
 * https://help.aliyun.com/document_detail/2593177.html) is recomputed from what arrived and
 * refused as Aliyun refuses it (HTTP 400 `SignatureDoesNotMatch`, `IncompleteSignature`,
 * `InvalidAccessKeyId.NotFound`, `SignatureNonceUsed`, `InvalidTimeStamp.Expired` beyond 15
 * minutes); `SendSms` checks its parameters and records the message. Faults by path
 * (`/aliyun-sms/`): `delayMs`, `status`, and `errmsg` answered as Aliyun's `Code`.
 */
export const ALIYUN_SMS_PREFIX = '/aliyun-sms';

const REQUIRED = [
  'host',
  'x-acs-action',
  'x-acs-version',
  'x-acs-date',
  'x-acs-signature-nonce',
  'x-acs-content-sha256',
];
const SKEW_MS = 15 * 60_000;

/** A message SendSms accepted. */
export interface SimSms {
  phone: string;
  signName: string;
  templateCode: string;
  params: Record<string, string>;
  bizId: string;
  at: number;
}

/** The simulated account: AccessKeys and the messages sent. */
export class AliyunSmsSim {
  private readonly keys = new Map<string, string>();
  private readonly nonces = new Set<string>();
  readonly sent: SimSms[] = [];

  constructor(readonly clock: SimClock) {}

  /** Accept requests signed with this AccessKey pair. */
  registerKey(accessKeyId: string, secret: string): void {
    this.keys.set(accessKeyId, secret);
  }

  secretOf(accessKeyId: string): string | undefined {
    return this.keys.get(accessKeyId);
  }

  /** False when the nonce was seen before (and records it). */
  useNonce(nonce: string): boolean {
    if (this.nonces.has(nonce)) return false;
    this.nonces.add(nonce);
    return true;
  }

  /** Messages sent to `phone` (all without), oldest first. */
  messages(phone?: string): SimSms[] {
    return phone === undefined ? [...this.sent] : this.sent.filter((m) => m.phone === phone);
  }

  reset(): void {
    this.nonces.clear();
    this.sent.length = 0;
  }
}

// The simulator's own V3 implementation (not the hub's), written from Aliyun's page.
const rfc3986 = (v: string) =>
  encodeURIComponent(v).replace(
    /[!'()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
const hex256 = (v: string) => createHash('sha256').update(v).digest('hex');
const byName = <T extends readonly [string, string]>(a: T, b: T) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

/** The hashed canonical request and signature Aliyun computes for what arrived. */
export function serverSignature(
  method: string,
  url: URL,
  headers: Record<string, string>,
  secret: string,
): { hashed: string; signature: string; signedHeaders: string } {
  const query = [...url.searchParams]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(byName);
  const hs = Object.entries(headers)
    .map(([k, v]) => [k.toLowerCase(), v.trim()] as const)
    .sort(byName);
  const signedHeaders = hs.map(([k]) => k).join(';');
  const canonical = [
    method,
    url.pathname,
    query.map(([k, v]) => `${k}=${v}`).join('&'),
    hs.map(([k, v]) => `${k}:${v}\n`).join(''),
    signedHeaders,
    hex256(''),
  ].join('\n');
  const hashed = hex256(canonical);
  const signature = createHmac('sha256', secret)
    .update(`ACS3-HMAC-SHA256\n${hashed}`)
    .digest('hex');
  return { hashed, signature, signedHeaders };
}

const requestId = () => randomBytes(16).toString('hex').toUpperCase();

type Answer = { status: 200 | 400 | 404; body: Record<string, unknown> };
const refuse = (code: string, message: string): Answer => ({
  status: 400,
  body: { RequestId: requestId(), Code: code, Message: message },
});

/** Checks the V3 signature of a request as it arrived; undefined when it is good. */
function checkSignature(sim: AliyunSmsSim, req: Request, url: URL): Answer | undefined {
  const auth = req.headers.get('authorization') ?? '';
  const m =
    /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (m === null)
    return refuse(
      'IncompleteSignature',
      'The request signature does not conform to Aliyun standards.',
    );
  const [, keyId = '', signedList = '', signature = ''] = m;
  const secret = sim.secretOf(keyId);
  if (secret === undefined)
    return refuse('InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  const signed = signedList.split(';');
  if (REQUIRED.some((h) => !signed.includes(h))) {
    return refuse('IncompleteSignature', `SignedHeaders must include ${REQUIRED.join(';')}`);
  }
  const headers: Record<string, string> = {};
  for (const h of signed) headers[h] = req.headers.get(h) ?? '';
  if (headers['x-acs-content-sha256'] !== hex256('')) {
    return refuse('SignatureDoesNotMatch', 'x-acs-content-sha256 is not the hash of the body');
  }
  const parts = serverSignature(req.method, url, headers, secret);
  if (parts.signedHeaders !== signedList || parts.signature !== signature) {
    return refuse(
      'SignatureDoesNotMatch',
      `Specified signature is not matched with our calculation. server string to sign is:ACS3-HMAC-SHA256\n${parts.hashed}`,
    );
  }
  const date = Date.parse(headers['x-acs-date'] ?? '');
  if (Number.isNaN(date) || Math.abs(date - sim.clock.now()) > SKEW_MS) {
    return refuse('InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
  }
  if (!sim.useNonce(headers['x-acs-signature-nonce'] ?? '')) {
    return refuse('SignatureNonceUsed', 'Specified signature nonce was used already.');
  }
  return undefined;
}

/** SendSms itself: parameters checked, message recorded. */
function sendSms(sim: AliyunSmsSim, req: Request, url: URL): Answer {
  if (
    req.headers.get('x-acs-action') !== 'SendSms' ||
    req.headers.get('x-acs-version') !== '2017-05-25'
  ) {
    return {
      status: 404,
      body: {
        RequestId: requestId(),
        Code: 'InvalidAction.NotFound',
        Message: 'Specified api is not found',
      },
    };
  }
  const q = url.searchParams;
  const phone = q.get('PhoneNumbers') ?? '';
  const ok = (code: string, message: string): Answer => ({
    status: 200,
    body: { RequestId: requestId(), Code: code, Message: message },
  });
  if (!/^\+?\d{6,20}$/.test(phone)) return ok('isv.MOBILE_NUMBER_ILLEGAL', '非法手机号');
  const signName = q.get('SignName') ?? '';
  const templateCode = q.get('TemplateCode') ?? '';
  if (signName === '') return ok('isv.SMS_SIGNATURE_ILLEGAL', '签名不合法');
  if (!/^SMS_/.test(templateCode)) return ok('isv.SMS_TEMPLATE_ILLEGAL', '模板不合法');
  let params: Record<string, string> = {};
  try {
    params = JSON.parse(q.get('TemplateParam') ?? '{}') as Record<string, string>;
  } catch {
    return ok('isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
  }
  const bizId = `${Date.now()}^${randomBytes(4).toString('hex')}`;
  sim.sent.push({ phone, signName, templateCode, params, bizId, at: sim.clock.now() });
  return { status: 200, body: { RequestId: requestId(), Code: 'OK', Message: 'OK', BizId: bizId } };
}

/** Mounts the endpoint and `GET /__sim/aliyun-sms/messages?phone=` (what was "sent"). */
export function mountAliyunSmsSimulator(
  app: Hono,
  sim: AliyunSmsSim,
  faults: FaultBook,
  counters: CallCounters,
): void {
  app.get('/__sim/aliyun-sms/messages', (c) => {
    const phone = c.req.query('phone');
    return c.json({
      messages: sim.messages(phone === undefined || phone === '' ? undefined : phone),
    });
  });
  app.all(`${ALIYUN_SMS_PREFIX}/*`, async (c) => {
    const url = new URL(c.req.url);
    counters.record(url.pathname, undefined);
    const fault = faults.take(url.pathname, undefined);
    if (fault !== undefined) {
      await waitFaultDelay(fault);
      if (fault.status !== undefined) return c.text('<html>error</html>', fault.status as 500);
      if (fault.errmsg !== undefined) {
        return c.json({ RequestId: requestId(), Code: fault.errmsg, Message: 'simulated' });
      }
    }
    const refused = checkSignature(sim, c.req.raw, url);
    const answer = refused ?? sendSms(sim, c.req.raw, url);
    return c.json(answer.body, answer.status);
  });
}
