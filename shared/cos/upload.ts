import type { CosBucketConfig } from '../config/signing-entries';
import { AppError } from '../http/errors';
import { cosAuthorization } from './sign';

/** A pre-signed upload the caller's browser or mini program sends as it is. */
export interface SignedUpload {
  url: string;
  method: 'PUT';
  /** Headers the upload must carry (they are signed). */
  headers: Record<string, string>;
  expiresAt: number;
}

const BAD_KEY =
  'key must be a relative object key such as uploads/a.png (no "..", "." or empty parts)';

/** Refuses (400) a key that is absolute, climbs (`..`), has empty parts or leaves the prefix. */
export function checkObjectKey(bucket: CosBucketConfig, key: string): void {
  const parts = key.split('/');
  if (
    key.length === 0 ||
    key.length > 850 ||
    key.startsWith('/') ||
    key.includes('\\') ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused.
    /[\u0000-\u001f\u007f]/.test(key) ||
    parts.some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw new AppError('BAD_REQUEST', BAD_KEY);
  }
  if (!key.startsWith(bucket.prefix)) {
    throw new AppError(
      'BAD_REQUEST',
      `key must start with "${bucket.prefix}" (this bucket's prefix)`,
    );
  }
}

/** The bucket's origin: `COS_ENDPOINT/{bucket}` (the simulator) or COS's own host. */
export function bucketBase(bucket: CosBucketConfig, endpoint: string | undefined): string {
  return endpoint === undefined
    ? `https://${bucket.bucket}.cos.${bucket.region}.myqcloud.com`
    : `${endpoint}/${bucket.bucket}`;
}

/**
 * `POST /v1/cos/{name}/upload`: a PUT URL for `key` under the bucket's prefix, signed for
 * `expiresSeconds` with `host`, and `content-type` / `content-length` when given (COS then
 * refuses an upload whose headers differ). The SecretKey never leaves the hub.
 */
export function signUpload(
  bucket: CosBucketConfig,
  endpoint: string | undefined,
  input: { key: string; contentType?: string | undefined; maxBytes?: number | undefined },
  now: number,
): SignedUpload {
  checkObjectKey(bucket, input.key);
  if (input.maxBytes !== undefined && input.maxBytes > bucket.maxBytes) {
    throw new AppError(
      'BAD_REQUEST',
      `maxBytes must be at most ${bucket.maxBytes} for this bucket`,
    );
  }
  const base = new URL(bucketBase(bucket, endpoint));
  const start = Math.floor(now / 1000);
  const keyTime = `${start};${start + bucket.expiresSeconds}`;
  const sent: Record<string, string> = {};
  if (input.contentType !== undefined) sent['Content-Type'] = input.contentType;
  if (input.maxBytes !== undefined) sent['Content-Length'] = String(input.maxBytes);
  const auth = cosAuthorization({
    secretId: bucket.secretId,
    secretKey: bucket.secretKey,
    method: 'PUT',
    pathname: `/${input.key}`,
    params: {},
    headers: { host: base.host, ...sent },
    keyTime,
  });
  const path = input.key.split('/').map(encodeURIComponent).join('/');
  return {
    url: `${base.origin}${base.pathname.replace(/\/$/, '')}/${path}?${auth}`,
    method: 'PUT',
    headers: sent,
    expiresAt: (start + bucket.expiresSeconds) * 1000,
  };
}
