import type { KeyObject } from 'node:crypto';
import { randomBytes, sign } from 'node:crypto';

/**
 * A minimal DER writer for one job: self-signed X.509 v3 certificates (RSA, sha256WithRSAEncryption)
 * that stand in for WeChat Pay platform certificates, without fixture files or the openssl CLI.
 */

/** Subject and issuer common name of simulator certificates. */
export const SIM_CA_COMMON_NAME = 'Tenpay.com Root CA (wxhub simulator)';

const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const OID_COUNTRY = '2.5.4.6';
const OID_ORGANIZATION = '2.5.4.10';
const OID_ORG_UNIT = '2.5.4.11';
const OID_COMMON_NAME = '2.5.4.3';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV: tag, DER length, content. */
export function derTlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

const sequence = (...parts: Buffer[]) => derTlv(TAG.sequence, Buffer.concat(parts));
const set = (...parts: Buffer[]) => derTlv(TAG.set, Buffer.concat(parts));
const explicit = (n: number, content: Buffer) => derTlv(0xa0 | n, content);
const DER_NULL = derTlv(TAG.null, Buffer.alloc(0));

/** An OBJECT IDENTIFIER from its dotted form. */
export function derOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const chunk = [arc % 128];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128))
      chunk.unshift(0x80 | (n % 128));
    bytes.push(...chunk);
  }
  return derTlv(TAG.oid, Buffer.from(bytes));
}

/** A non-negative INTEGER from big-endian bytes (minimal encoding, sign byte when needed). */
export function derUnsignedInteger(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  const trimmed = value.subarray(start);
  const needsPad = ((trimmed[0] ?? 0) & 0x80) !== 0;
  return derTlv(TAG.integer, needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** UTCTime before 2050 and GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5), second precision. */
export function derTime(epochMs: number): Buffer {
  const d = new Date(epochMs);
  const year = d.getUTCFullYear();
  const rest = [d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()]
    .concat(d.getUTCSeconds())
    .map(pad2)
    .join('');
  if (year >= 1950 && year < 2050) {
    return derTlv(TAG.utcTime, Buffer.from(`${pad2(year % 100)}${rest}Z`, 'ascii'));
  }
  return derTlv(TAG.generalizedTime, Buffer.from(`${String(year).padStart(4, '0')}${rest}Z`));
}

function nameAttribute(oid: string, value: Buffer): Buffer {
  return set(sequence(derOid(oid), value));
}

/** The distinguished name used as both subject and issuer. */
function simName(commonName: string): Buffer {
  return sequence(
    nameAttribute(OID_COUNTRY, derTlv(TAG.printableString, Buffer.from('CN', 'ascii'))),
    nameAttribute(OID_ORGANIZATION, derTlv(TAG.utf8String, Buffer.from('Tenpay.com'))),
    nameAttribute(OID_ORG_UNIT, derTlv(TAG.utf8String, Buffer.from('Tenpay.com CA Center'))),
    nameAttribute(OID_COMMON_NAME, derTlv(TAG.utf8String, Buffer.from(commonName))),
  );
}

/** extensions: basicConstraints, critical, cA FALSE (an empty SEQUENCE, as DER omits defaults). */
function endEntityExtensions(): Buffer {
  const critical = derTlv(TAG.boolean, Buffer.from([0xff]));
  const basic = sequence(
    derOid(OID_BASIC_CONSTRAINTS),
    critical,
    derTlv(TAG.octetString, sequence()),
  );
  return explicit(3, sequence(basic));
}

/**
 * A random 20-byte certificate serial with the top bit cleared (so the INTEGER is positive) and a
 * first byte of at least 0x10, so it always prints as 40 hex digits like WeChat's serials.
 */
export function newCertificateSerial(): Buffer {
  for (;;) {
    const serial = randomBytes(20);
    serial[0] = (serial[0] ?? 0) & 0x7f;
    if ((serial[0] ?? 0) >= 0x10) return serial;
  }
}

/** Input of {@link createSelfSignedCertificate}. */
export interface SelfSignedCertificateOptions {
  publicKey: KeyObject;
  /** Signs the certificate; must belong to `publicKey` for the certificate to self-verify. */
  privateKey: KeyObject;
  /** Validity start, epoch ms (stored with second precision). */
  notBefore: number;
  /** Validity end, epoch ms (stored with second precision). */
  notAfter: number;
  /** 20 bytes by default, from {@link newCertificateSerial}. */
  serial?: Buffer;
  commonName?: string;
}

/** A certificate in both encodings, with its serial as WeChat prints it. */
export interface SelfSignedCertificate {
  der: Buffer;
  pem: string;
  /** Upper-case hex serial (40 chars for the default serial). */
  serialNo: string;
}

/** PEM armour around DER bytes (64-char lines). */
export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Build and sign a self-signed X.509 v3 certificate.
 *
 * @example
 * const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
 * const cert = createSelfSignedCertificate({ publicKey, privateKey, notBefore, notAfter });
 * new X509Certificate(cert.pem).serialNumber === cert.serialNo; // true
 */
export function createSelfSignedCertificate(
  opts: SelfSignedCertificateOptions,
): SelfSignedCertificate {
  const serial = opts.serial ?? newCertificateSerial();
  const algorithm = sequence(derOid(OID_SHA256_WITH_RSA), DER_NULL);
  const name = simName(opts.commonName ?? SIM_CA_COMMON_NAME);
  const spki = opts.publicKey.export({ type: 'spki', format: 'der' });
  const tbs = sequence(
    explicit(0, derUnsignedInteger(Buffer.from([2]))),
    derUnsignedInteger(serial),
    algorithm,
    name,
    sequence(derTime(opts.notBefore), derTime(opts.notAfter)),
    name,
    spki,
    endEntityExtensions(),
  );
  const signature = sign('sha256', tbs, opts.privateKey);
  const der = sequence(
    tbs,
    algorithm,
    derTlv(TAG.bitString, Buffer.concat([Buffer.from([0]), signature])),
  );
  return { der, pem: toPem('CERTIFICATE', der), serialNo: serial.toString('hex').toUpperCase() };
}
