import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The request signatures of the delivery platforms, each written once and used by the hub and
 * the simulator alike.
 */

/** The non-empty parameters, keys in ASCII order (both platforms leave `sign`/`signature` out). */
function sortedPairs(params: Readonly<Record<string, string | undefined>>, skip: string) {
  return Object.keys(params)
    .filter((k) => k !== skip && params[k] !== undefined && params[k] !== '')
    .sort()
    .map((k): [string, string] => [k, params[k] ?? '']);
}

/**
 * Fengniao (anubis v3): `hex(sha256(secret + "k1=v1&k2=v2…"))` over the non-empty parameters but
 * `signature`, keys ASCII-sorted, each value exactly as sent (`business_data` is the very string in
 * the body; no URL-encoding). Token, refresh, business calls and callbacks all sign this way
 * (MQEnergy/delivery-core `core/fn/v3/base.go`, CharLemAznable/varys `fengniao/app`).
 */
export function fengniaoSignature(
  secret: string,
  params: Readonly<Record<string, string | undefined>>,
): string {
  const plain = sortedPairs(params, 'signature')
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  return createHash('sha256')
    .update(secret + plain, 'utf8')
    .digest('hex');
}

/**
 * Shansong (open platform v5): `UPPER(md5_hex(secret + k1 + v1 + k2 + v2…))` over the non-empty
 * parameters but `sign`, keys ASCII-sorted, no separators (LqsShansong PHP SDK, ShopeX's Java
 * client; varys sends lowercase hex, the others uppercase: uppercase is sent).
 */
export function shansongSign(
  secret: string,
  params: Readonly<Record<string, string | undefined>>,
): string {
  const plain = sortedPairs(params, 'sign')
    .map(([k, v]) => `${k}${v}`)
    .join('');
  return createHash('md5')
    .update(secret + plain, 'utf8')
    .digest('hex')
    .toUpperCase();
}

/** Constant-time comparison of two signatures' texts (false for different lengths). */
export function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
