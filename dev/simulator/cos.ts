import { createHash, createHmac } from 'node:crypto';
import type { Hono } from 'hono';
import type { SimClock } from './clock';
import type { CallCounters, FaultBook } from './faults';
import { waitFaultDelay } from './faults';

/**
 * Tencent COS object uploads, served under `/cos/{bucket}/{key…}` (set `COS_ENDPOINT` to
 * `${sim.url}/cos`). A PUT's signature (`q-sign-algorithm=sha1` in the query, or the
 * `Authorization` header; https://cloud.tencent.com/document/product/436/7778) is recomputed
 * over the decoded key path, the listed parameters and the listed headers as they arrived, and
 * refused as COS refuses it: 403 `SignatureDoesNotMatch`, 403 `AccessDenied` once expired,
 * `InvalidAccessKeyId` for an unknown SecretId. Faults by path (`/cos/{bucket}/{key}`).
 */
export const COS_PREFIX = '/cos';

/** An object the simulator stored. */
export interface SimCosObject {
  bucket: string;
  key: string;
  bytes: number;
  contentType: string | undefined;
}

export class CosSim {
  private readonly keys = new Map<string, string>();
  readonly objects: SimCosObject[] = [];

  constructor(readonly clock: SimClock) {}

  /** Accept signatures made with this SecretId / SecretKey. */
  registerKey(secretId: string, secretKey: string): void {
    this.keys.set(secretId, secretKey);
  }

  secretOf(secretId: string): string | undefined {
    return this.keys.get(secretId);
  }

  reset(): void {
    this.objects.length = 0;
  }
}

// The simulator's own implementation of the signature (not the hub's), from COS's page.
const urlEncode = (v: string) =>
  encodeURIComponent(v).replace(
    /[!'()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
const pairs = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `${urlEncode(k.toLowerCase())}=${urlEncode(v)}`)
    .sort()
    .join('&');

/** The q-signature COS computes for a request. */
export function serverSignature(
  secretKey: string,
  method: string,
  pathname: string,
  params: Record<string, string>,
  headers: Record<string, string>,
  keyTime: string,
): string {
  const signKey = createHmac('sha1', secretKey).update(keyTime).digest('hex');
  const http = `${method.toLowerCase()}\n${pathname}\n${pairs(params)}\n${pairs(headers)}\n`;
  const digest = createHash('sha1').update(http).digest('hex');
  return createHmac('sha1', signKey).update(`sha1\n${keyTime}\n${digest}\n`).digest('hex');
}

const xmlError = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;

/** The signature's fields from the query, or from the `Authorization` header. */
function signatureFields(url: URL, header: string | null): URLSearchParams {
  if (url.searchParams.has('q-signature')) return url.searchParams;
  return new URLSearchParams(header ?? '');
}

/** Undefined when the request's signature is good, else COS's refusal (code, message). */
function checkSignature(
  sim: CosSim,
  req: Request,
  url: URL,
  key: string,
): [string, string] | undefined {
  const f = signatureFields(url, req.headers.get('authorization'));
  if (f.get('q-sign-algorithm') !== 'sha1' || !f.get('q-signature')) {
    return ['AccessDenied', 'Request has no valid signature.'];
  }
  const secretKey = sim.secretOf(f.get('q-ak') ?? '');
  if (secretKey === undefined)
    return ['InvalidAccessKeyId', 'The access key Id format you provided is invalid.'];
  const keyTime = f.get('q-key-time') ?? '';
  const [start, end] = keyTime.split(';').map(Number);
  const now = Math.floor(sim.clock.now() / 1000);
  if (start === undefined || end === undefined || !(start <= now && now <= end)) {
    return ['AccessDenied', 'Request has expired'];
  }
  const headers: Record<string, string> = {};
  for (const h of (f.get('q-header-list') ?? '').split(';').filter((h) => h !== '')) {
    const v = req.headers.get(h);
    if (v === null) return ['SignatureDoesNotMatch', `signed header ${h} is missing`];
    headers[h] = v;
  }
  const params: Record<string, string> = {};
  for (const p of (f.get('q-url-param-list') ?? '').split(';').filter((p) => p !== '')) {
    params[p] = url.searchParams.get(p) ?? '';
  }
  const expected = serverSignature(secretKey, req.method, `/${key}`, params, headers, keyTime);
  if (expected !== f.get('q-signature')) {
    return [
      'SignatureDoesNotMatch',
      'The calculated signature does not match the signature you provided.',
    ];
  }
  return undefined;
}

/** Mounts `PUT /cos/{bucket}/{key…}`. */
export function mountCosSimulator(
  app: Hono,
  sim: CosSim,
  faults: FaultBook,
  counters: CallCounters,
): void {
  app.put(`${COS_PREFIX}/*`, async (c) => {
    const url = new URL(c.req.url);
    counters.record(url.pathname, undefined);
    const fault = faults.take(url.pathname, undefined);
    if (fault !== undefined) {
      await waitFaultDelay(fault);
      if (fault.status !== undefined)
        return c.text(xmlError('InternalError', 'simulated'), fault.status as 500);
    }
    const [, bucket = '', ...rest] = url.pathname.slice(COS_PREFIX.length).split('/');
    const key = decodeURIComponent(rest.join('/'));
    const refused = checkSignature(sim, c.req.raw, url, key);
    if (refused !== undefined) {
      return c.body(xmlError(...refused), 403, { 'content-type': 'application/xml' });
    }
    const body = new Uint8Array(await c.req.arrayBuffer());
    sim.objects.push({
      bucket,
      key,
      bytes: body.byteLength,
      contentType: c.req.header('content-type'),
    });
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    return c.body(null, 200, { etag });
  });
}
