import { createHash, createHmac } from 'node:crypto';

/**
 * Tencent COS XML request signature, `q-sign-algorithm=sha1`
 * (https://cloud.tencent.com/document/product/436/7778): `SignKey = HMAC-SHA1(SecretKey,
 * KeyTime)`, the request's method, decoded path, chosen parameters and headers hashed into
 * `HttpString`, then `Signature = HMAC-SHA1(SignKey as hex text, StringToSign)`.
 */

/** COS's UrlEncode: encodeURIComponent plus `!'()*`, upper-case hex. */
export function cosEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Keys lower-cased and encoded, sorted: the `k=v&…` string and the `k;…` list. */
function canonical(pairs: Record<string, string>): { string: string; list: string } {
  const sorted = Object.entries(pairs)
    .map(([k, v]) => [cosEncode(k.toLowerCase()), cosEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    string: sorted.map(([k, v]) => `${k}=${v}`).join('&'),
    list: sorted.map(([k]) => k).join(';'),
  };
}

export interface CosSignInput {
  secretKey: string;
  method: string;
  /** The decoded path, e.g. `/exampleobject(腾讯云)`. */
  pathname: string;
  /** Query parameters to sign (names as sent). */
  params: Record<string, string>;
  /** Headers to sign (at least `host`). */
  headers: Record<string, string>;
  /** `<start>;<end>`, epoch seconds. */
  keyTime: string;
}

/** Every step of the signature (the official example pins each). */
export function cosSignatureParts(input: CosSignInput) {
  const signKey = createHmac('sha1', input.secretKey).update(input.keyTime).digest('hex');
  const params = canonical(input.params);
  const headers = canonical(input.headers);
  const httpString = `${input.method.toLowerCase()}\n${input.pathname}\n${params.string}\n${headers.string}\n`;
  const httpStringSha1 = createHash('sha1').update(httpString).digest('hex');
  const stringToSign = `sha1\n${input.keyTime}\n${httpStringSha1}\n`;
  const signature = createHmac('sha1', signKey).update(stringToSign).digest('hex');
  return {
    signKey,
    httpString,
    httpStringSha1,
    signature,
    headerList: headers.list,
    urlParamList: params.list,
  };
}

/**
 * The signature's fields (`q-sign-algorithm=sha1&q-ak=…&q-signature=…`), as the `Authorization`
 * header or, on a pre-signed URL, as query parameters.
 */
export function cosAuthorization(input: CosSignInput & { secretId: string }): string {
  const p = cosSignatureParts(input);
  return [
    'q-sign-algorithm=sha1',
    `q-ak=${input.secretId}`,
    `q-sign-time=${input.keyTime}`,
    `q-key-time=${input.keyTime}`,
    `q-header-list=${p.headerList}`,
    `q-url-param-list=${p.urlParamList}`,
    `q-signature=${p.signature}`,
  ].join('&');
}
