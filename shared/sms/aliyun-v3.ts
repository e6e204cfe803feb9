import { createHash, createHmac } from 'node:crypto';

/**
 * Aliyun's request signature V3, `ACS3-HMAC-SHA256`
 * (https://help.aliyun.com/document_detail/2593177.html): a canonical request of the method, the
 * path, the sorted query, the signed headers and the body's SHA-256, hashed; the hash signed
 * with HMAC-SHA256 under the raw AccessKey secret (no `&`, unlike V2).
 */
export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** RFC 3986 percent-encoding as Aliyun's V3 canonical query uses it (`~` kept, space `%20`). */
export function acsEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export interface Acs3Request {
  method: string;
  /** `/` for RPC APIs such as SendSms. */
  path: string;
  query: Record<string, string>;
  /** Header names in any case; every one given is signed. */
  headers: Record<string, string>;
  body: string;
}

/** The canonical query: names and values encoded, sorted by name, `k=v` joined by `&`. */
export function canonicalQuery(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => [acsEncode(k), acsEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** The canonical request and what is derived from it (exposed for tests and the simulator). */
export function acs3Parts(req: Acs3Request, secret: string) {
  const headers = Object.entries(req.headers)
    .map(([k, v]) => [k.toLowerCase(), v.trim()] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signedHeaders = headers.map(([k]) => k).join(';');
  const canonicalHeaders = headers.map(([k, v]) => `${k}:${v}\n`).join('');
  const canonicalRequest = [
    req.method.toUpperCase(),
    req.path,
    canonicalQuery(req.query),
    canonicalHeaders,
    signedHeaders,
    sha256Hex(req.body),
  ].join('\n');
  const hashedCanonicalRequest = sha256Hex(canonicalRequest);
  const stringToSign = `${ACS3_ALGORITHM}\n${hashedCanonicalRequest}`;
  const signature = createHmac('sha256', secret).update(stringToSign).digest('hex');
  return { canonicalRequest, hashedCanonicalRequest, signedHeaders, signature };
}

/** The `Authorization` header of a V3-signed request. */
export function acs3Authorization(req: Acs3Request, accessKeyId: string, secret: string): string {
  const { signedHeaders, signature } = acs3Parts(req, secret);
  return `${ACS3_ALGORITHM} Credential=${accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`;
}

/** `x-acs-content-sha256` of a body. */
export const contentSha256 = (body: string) => sha256Hex(body);
