import { type KeyObject, X509Certificate } from 'node:crypto';
import type { Clock } from '../clock';
import { serialKey } from '../config/apps';
import { AppError } from '../http/errors';
import type { CredentialKey, MerchantRecord, PlatformCertificate } from '../store';
import { assertReadable } from '../store/unreadable';
import type { Fetcher, TokenManager } from '../tokens/manager';
import type { WechatHttp } from '../wechat/http';
import { type PayCallContext, payCall, payErrorOf } from './client';
import { decryptResource, PayCryptoError, privateKeyOf, publicKeyOf, verifyLines } from './crypto';

/** A merchant's keys, parsed once per merchant row. */
export interface MerchantKeys {
  mchId: string;
  serialNo: string;
  privateKey: KeyObject;
  apiV3Key: Buffer;
  publicKeyId: string | undefined;
  publicKey: KeyObject | undefined;
  /** Platform certificates from the apps file, by {@link serialKey}. */
  fileCertificates: Map<string, KeyObject>;
  /**
   * True when WeChat Pay may sign with platform certificates: no public key configured, or
   * certificates listed beside it (a migration). Such merchants get certificates downloaded.
   */
  usesCertificates: boolean;
}

const keysByRecord = new WeakMap<MerchantRecord, MerchantKeys>();

/** The parsed keys of `m` (cached per record object; records are replaced when rows change). */
export function merchantKeys(m: MerchantRecord): MerchantKeys {
  let keys = keysByRecord.get(m);
  if (keys === undefined) {
    assertReadable(m, 'merchants.api_v3_key');
    assertReadable(m, 'merchants.private_key');
    keys = {
      mchId: m.mchId,
      serialNo: m.serialNo,
      privateKey: privateKeyOf(m.privateKey),
      apiV3Key: Buffer.from(m.apiV3Key, 'utf8'),
      publicKeyId: m.publicKeyId,
      publicKey: m.publicKey === undefined ? undefined : publicKeyOf(m.publicKey),
      fileCertificates: new Map(
        m.platformCertificates.map((c) => [serialKey(c.serialNo), publicKeyOf(c.certificate)]),
      ),
      usesCertificates: m.publicKeyId === undefined || m.platformCertificates.length > 0,
    };
    keysByRecord.set(m, keys);
  }
  return keys;
}

/** Owner of a merchant's credential rows. */
export const merchantOwner = (m: Pick<MerchantRecord, 'name'>) => `merchant:${m.name}`;

/** Kind of the credential row holding a merchant's downloaded platform certificates. */
export const CERTIFICATES_KIND = 'platform_certificates';

/** Downloaded certificates are fetched again after this (WeChat: at least every 12 h). */
export const CERTIFICATES_TTL_SECONDS = 12 * 3600;

export const CERTIFICATES_PATH = '/v3/certificates';

/** An unknown certificate serial triggers a new download only if the last one is this old. */
export const CERTIFICATES_RECHECK_MS = 5 * 60_000;

export interface PayDeps {
  pay: WechatHttp;
  clock: Clock;
  tokens: TokenManager;
}

export const certificatesKey = (m: MerchantRecord): CredentialKey => ({
  owner: merchantOwner(m),
  kind: CERTIFICATES_KIND,
});

const parsedCertificates = new Map<string, Map<string, KeyObject>>();

/** Serial → key of a stored certificates value (parsed once per value). */
function certificatesOf(value: string): Map<string, KeyObject> {
  let keys = parsedCertificates.get(value);
  if (keys === undefined) {
    const certs = JSON.parse(value) as PlatformCertificate[];
    keys = new Map(certs.map((c) => [serialKey(c.serialNo), publicKeyOf(c.certificate)]));
    if (parsedCertificates.size > 256) parsedCertificates.clear();
    parsedCertificates.set(value, keys);
  }
  return keys;
}

/**
 * The key WeChat Pay used, by the `Wechatpay-Serial` it sent (WeChat Pay staff:
 * https://developers.weixin.qq.com/community/develop/doc/0004e8c40b09182972936db6d69400): a public
 * key id matches exactly (ids are case-sensitive), a certificate serial in any case and with or
 * without leading zeros ({@link serialKey}), first among the apps file's certificates, then among
 * the downloaded ones (downloaded under the lease when none are stored yet). Undefined for an
 * unknown serial.
 */
export async function verifierFor(
  deps: PayDeps,
  m: MerchantRecord,
  serial: string,
): Promise<KeyObject | undefined> {
  const keys = merchantKeys(m);
  if (serial.startsWith('PUB_KEY_ID_')) {
    return serial === keys.publicKeyId ? keys.publicKey : undefined;
  }
  if (!/^[0-9A-Fa-f]{8,64}$/.test(serial)) return undefined;
  const wanted = serialKey(serial);
  const fromFile = keys.fileCertificates.get(wanted);
  if (fromFile !== undefined || !keys.usesCertificates) return fromFile;
  let stored: { value: string; expiresAt: number };
  try {
    const fetcher = certificatesFetcher(deps, m);
    stored = await deps.tokens.get(certificatesKey(m), fetcher);
    const found = certificatesOf(stored.value).get(wanted);
    if (found !== undefined) return found;
    // A serial not seen yet may be a certificate WeChat Pay just started using: download again,
    // at most once per CERTIFICATES_RECHECK_MS (so unknown serials cannot hammer WeChat Pay).
    const fetchedAt = stored.expiresAt - CERTIFICATES_TTL_SECONDS * 1000;
    if (deps.clock.now() - fetchedAt < CERTIFICATES_RECHECK_MS) return undefined;
    stored = await deps.tokens.invalidate(certificatesKey(m), stored.value, fetcher);
  } catch (err) {
    const why = err instanceof Error ? err.message : 'failed';
    throw new AppError(
      'UNAUTHORIZED',
      `Wechatpay-Serial ${serial.slice(0, 64)} is not a known certificate of merchant "${m.name}", and downloading the platform certificates failed: ${why}`,
    );
  }
  return certificatesOf(stored.value).get(wanted);
}

/** A signed-call context for merchant `m`. */
export function payContext(deps: PayDeps, m: MerchantRecord): PayCallContext {
  const keys = merchantKeys(m);
  return {
    http: deps.pay,
    clock: deps.clock,
    caller: {
      mchId: keys.mchId,
      serialNo: keys.serialNo,
      privateKey: keys.privateKey,
      publicKeyId: keys.publicKeyId,
    },
    verifier: (serial) => verifierFor(deps, m, serial),
  };
}

interface CertificateEntry {
  serial_no?: unknown;
  effective_time?: unknown;
  expire_time?: unknown;
  encrypt_certificate?: {
    algorithm?: unknown;
    nonce?: unknown;
    associated_data?: unknown;
    ciphertext?: unknown;
  };
}

/**
 * Downloads the platform certificates (`GET /v3/certificates`,
 * https://pay.weixin.qq.com/wiki/doc/api_external/ch/apis/chapter3_2_8.shtml): each decrypted with
 * the API v3 key, its serial checked against the certificate, and the answer's signature checked
 * with the certificate it names — one the answer itself delivered (WeChat's self-check) or one
 * already trusted from the apps file.
 */
export async function downloadCertificates(
  deps: Pick<PayDeps, 'pay' | 'clock'>,
  m: MerchantRecord,
): Promise<PlatformCertificate[]> {
  const keys = merchantKeys(m);
  const caller = { ...keys, publicKeyId: undefined };
  // Checked in parseCertificates, once the delivered certificates are known.
  const ctx = { http: deps.pay, clock: deps.clock, caller, verifier: async () => undefined };
  const res = await payCall(ctx, 'GET', CERTIFICATES_PATH, undefined, { verify: false });
  if (res.status !== 200) throw payErrorOf(CERTIFICATES_PATH, res);
  return parseCertificates(m, res.body, res.headers);
}

function parseCertificates(
  m: MerchantRecord,
  body: Buffer,
  headers: Headers,
): PlatformCertificate[] {
  const keys = merchantKeys(m);
  let data: CertificateEntry[];
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data)) throw new Error('no data');
    data = parsed.data as CertificateEntry[];
  } catch {
    throw new AppError(
      'UPSTREAM_WECHAT',
      `WeChat Pay ${CERTIFICATES_PATH} answered no certificate list`,
    );
  }
  const certs: PlatformCertificate[] = [];
  for (const entry of data) {
    const enc = entry.encrypt_certificate;
    if (
      typeof entry.serial_no !== 'string' ||
      typeof entry.expire_time !== 'string' ||
      typeof enc?.ciphertext !== 'string' ||
      typeof enc.nonce !== 'string' ||
      typeof enc.algorithm !== 'string'
    ) {
      throw new AppError('UPSTREAM_WECHAT', `WeChat Pay ${CERTIFICATES_PATH}: malformed entry`);
    }
    let pem: string;
    try {
      pem = decryptResource(keys.apiV3Key, {
        algorithm: enc.algorithm,
        ciphertext: enc.ciphertext,
        nonce: enc.nonce,
        associated_data: typeof enc.associated_data === 'string' ? enc.associated_data : '',
      });
    } catch (err) {
      if (err instanceof PayCryptoError) {
        throw new AppError(
          'UPSTREAM_WECHAT',
          `merchant "${m.name}": certificate ${entry.serial_no.slice(0, 64)} does not decrypt (is apiV3Key right?)`,
        );
      }
      throw err;
    }
    const x509 = new X509Certificate(pem);
    if (serialKey(x509.serialNumber) !== serialKey(entry.serial_no)) {
      throw new AppError(
        'UPSTREAM_WECHAT',
        `WeChat Pay ${CERTIFICATES_PATH}: certificate serial does not match serial_no`,
      );
    }
    const expiresAt = Date.parse(entry.expire_time);
    certs.push({
      serialNo: entry.serial_no.toUpperCase(),
      certificate: pem,
      ...(Number.isNaN(expiresAt) ? {} : { expiresAt }),
    });
  }
  // The answer must be signed by one of the certificates it delivered, or one already trusted.
  const serial = headers.get('wechatpay-serial') ?? '';
  const signer =
    certs.find((c) => serialKey(c.serialNo) === serialKey(serial))?.certificate ??
    m.platformCertificates.find((c) => serialKey(c.serialNo) === serialKey(serial))?.certificate;
  const ok =
    signer !== undefined &&
    verifyLines(
      publicKeyOf(signer),
      [headers.get('wechatpay-timestamp') ?? '', headers.get('wechatpay-nonce') ?? '', body],
      headers.get('wechatpay-signature') ?? '',
    );
  if (!ok) {
    throw new AppError(
      'UPSTREAM_WECHAT',
      `WeChat Pay ${CERTIFICATES_PATH}: the answer is not signed by a delivered certificate; refused`,
    );
  }
  return certs;
}

/** Fetches the certificates for the credential manager: the value is their JSON, valid 12 h. */
export function certificatesFetcher(
  deps: Pick<PayDeps, 'pay' | 'clock'>,
  m: MerchantRecord,
): Fetcher {
  return async () => {
    const certs = await downloadCertificates(deps, m);
    return { value: JSON.stringify(certs), expiresIn: CERTIFICATES_TTL_SECONDS };
  };
}
