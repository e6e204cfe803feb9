import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createSelfSignedCertificate,
  derOid,
  derTime,
  derUnsignedInteger,
  newCertificateSerial,
  SIM_CA_COMMON_NAME,
} from './x509';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('DER pieces', () => {
  it('encodes OIDs, integers and both time types', () => {
    expect(derOid('1.2.840.113549.1.1.11').toString('hex')).toBe('06092a864886f70d01010b');
    expect(derUnsignedInteger(Buffer.from([0x00, 0x00, 0x7f])).toString('hex')).toBe('02017f');
    expect(derUnsignedInteger(Buffer.from([0x80])).toString('hex')).toBe('02020080');
    const utc = derTime(Date.UTC(2049, 11, 31, 23, 59, 59, 999));
    expect(utc[0]).toBe(0x17);
    expect(utc.subarray(2).toString('ascii')).toBe('491231235959Z');
    const generalized = derTime(Date.UTC(2050, 0, 1, 0, 0, 0));
    expect(generalized[0]).toBe(0x18);
    expect(generalized.subarray(2).toString('ascii')).toBe('20500101000000Z');
  });

  it('draws 40-hex-digit positive serials', () => {
    for (let i = 0; i < 50; i += 1) {
      const serial = newCertificateSerial();
      expect(serial.length).toBe(20);
      expect(serial[0]).toBeGreaterThanOrEqual(0x10);
      expect(serial[0]).toBeLessThan(0x80);
    }
  });
});

describe('createSelfSignedCertificate', () => {
  it('is parsed by node: serial, names, validity and signature check out', () => {
    const notBefore = Date.UTC(2025, 0, 15, 4, 0, 0);
    const notAfter = Date.UTC(2030, 0, 14, 4, 0, 0);
    const cert = createSelfSignedCertificate({ ...keys, notBefore: notBefore + 250, notAfter });
    const x509 = new X509Certificate(cert.pem);
    expect(cert.serialNo).toMatch(/^[0-9A-F]{40}$/);
    expect(x509.serialNumber).toBe(cert.serialNo);
    expect(x509.subject).toContain(`CN=${SIM_CA_COMMON_NAME}`);
    expect(x509.issuer).toBe(x509.subject);
    expect(new Date(x509.validFrom).getTime()).toBe(notBefore);
    expect(new Date(x509.validTo).getTime()).toBe(notAfter);
    expect(x509.ca).toBe(false);
    expect(x509.verify(keys.publicKey)).toBe(true);
    expect(x509.verify(other.publicKey)).toBe(false);
    expect(x509.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      keys.publicKey.export({ type: 'spki', format: 'der' }),
    );
    expect(x509.raw.equals(cert.der)).toBe(true);
  });

  it('uses GeneralizedTime past 2049 and keeps a given serial', () => {
    const serial = Buffer.from('7F'.repeat(20), 'hex');
    const notBefore = Date.UTC(2049, 5, 1, 0, 0, 0);
    const notAfter = Date.UTC(2060, 5, 1, 12, 30, 15);
    const cert = createSelfSignedCertificate({ ...keys, notBefore, notAfter, serial });
    const x509 = new X509Certificate(cert.pem);
    expect(x509.serialNumber).toBe('7F'.repeat(20));
    expect(new Date(x509.validFrom).getTime()).toBe(notBefore);
    expect(new Date(x509.validTo).getTime()).toBe(notAfter);
    expect(x509.verify(keys.publicKey)).toBe(true);
  });

  it('does not self-verify when signed by another key', () => {
    const cert = createSelfSignedCertificate({
      publicKey: keys.publicKey,
      privateKey: other.privateKey,
      notBefore: Date.UTC(2025, 0, 1),
      notAfter: Date.UTC(2026, 0, 1),
    });
    expect(new X509Certificate(cert.pem).verify(keys.publicKey)).toBe(false);
  });
});
