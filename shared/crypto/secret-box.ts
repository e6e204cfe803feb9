import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { isBranded } from '../http/errors';

const PREFIX = 'wx1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts secrets at rest with AES-256-GCM: a random 96-bit nonce per value, the key id in the
 * sealed string for rotation, and an associated-data label (e.g. `apps.app_secret:shop-mp`) that
 * binds the ciphertext to its row and column, so a value copied to another row does not open.
 *
 * Format: `wx1.<keyId>.<nonce b64url>.<ciphertext+tag b64url>`.
 *
 * @example
 * const box = createSecretBox([key]);
 * const sealed = box.seal('s3cret', 'apps.app_secret:oa');
 * box.open(sealed, 'apps.app_secret:oa'); // 's3cret'
 */
export interface SecretBox {
  /** Id of the key that new values are sealed with. */
  readonly keyId: string;
  /** Ids of every key that opens values (the current one first). */
  readonly keyIds: readonly string[];
  seal(plain: string, label: string): string;
  open(sealed: string, label: string): string;
}

const SECRET_BOX_ERROR = Symbol.for('wxhub.SecretBoxError');

/**
 * Raised when a sealed value cannot be opened; the message never carries key or plaintext.
 * `reason` tells an unknown key id (a key removed from `WXHUB_SECRET_KEY` too early) from a value
 * that does not authenticate under its key (altered, or copied from another row or column).
 */
export class SecretBoxError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, SECRET_BOX_ERROR);
  }
  readonly [SECRET_BOX_ERROR] = true;
  override name = 'SecretBoxError';
  constructor(
    message: string,
    readonly reason: 'unknown-key' | 'unauthentic' | 'malformed' = 'malformed',
    /** The key id the value names (public: a hash prefix of the key). */
    readonly keyId?: string,
  ) {
    super(message);
  }
}

/** A key id is public: the first 8 hex chars of SHA-256 over the key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * Builds a secret box from one or more 32-byte keys; the first seals, all open (rotation: put the
 * new key first, keep the old ones until every value was re-sealed).
 */
export function createSecretBox(keys: Buffer[]): SecretBox {
  const [current] = keys;
  if (current === undefined) throw new SecretBoxError('at least one key is required');
  const byId = new Map<string, Buffer>();
  for (const key of keys) {
    if (key.length !== 32) throw new SecretBoxError('keys must be 32 bytes');
    byId.set(keyIdOf(key), key);
  }
  const currentId = keyIdOf(current);

  return {
    keyId: currentId,
    keyIds: [...byId.keys()],
    seal(plain, label) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, nonce);
      cipher.setAAD(Buffer.from(label, 'utf8'));
      const body = Buffer.concat([
        cipher.update(plain, 'utf8'),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return `${PREFIX}.${currentId}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed, label) {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== PREFIX) {
        throw new SecretBoxError('not a sealed value');
      }
      const [, keyId = '', nonceText = '', bodyText = ''] = parts;
      const key = byId.get(keyId);
      if (key === undefined) {
        throw new SecretBoxError(`no key with id ${keyId} is configured`, 'unknown-key', keyId);
      }
      const nonce = Buffer.from(nonceText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
        throw new SecretBoxError('sealed value is truncated');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, nonce);
        decipher.setAAD(Buffer.from(label, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(body.subarray(0, body.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return plain.toString('utf8');
      } catch {
        throw new SecretBoxError(
          'sealed value failed authentication (wrong key or label)',
          'unauthentic',
          keyId,
        );
      }
    },
  };
}
