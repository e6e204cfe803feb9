import { createPublicKey, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from './app';
import {
  API_V3_KEY,
  aeadDecrypt,
  MCH_ID,
  merchantConfig,
  type PayAnswer,
  payCall,
  startPaySimulator,
  verifySigned,
} from './pay-test-helpers';
import type { RunningSimulator } from './server';
import { startSimulator } from './server';
import { newSim, T0 } from './test-helpers';

let running: RunningSimulator;
let sim: Simulator;

beforeAll(async () => {
  running = await startPaySimulator();
  sim = running.sim;
});
afterAll(async () => {
  await running.close();
});
beforeEach(() => {
  sim.reset();
  sim.clock.set(T0);
});

const QUERY = `/v3/pay/transactions/out-trade-no/T_KEYS_1?mchid=${MCH_ID}`;

interface CertificateEntry {
  serial_no: string;
  effective_time: string;
  expire_time: string;
  encrypt_certificate: {
    algorithm: string;
    nonce: string;
    associated_data: string;
    ciphertext: string;
  };
}

function certificateEntries(answer: PayAnswer): CertificateEntry[] {
  return answer.json.data as CertificateEntry[];
}

function decryptEntry(entry: CertificateEntry): X509Certificate {
  const { nonce, associated_data, ciphertext } = entry.encrypt_certificate;
  return new X509Certificate(aeadDecrypt(API_V3_KEY, nonce, associated_data, ciphertext));
}

describe('response signatures', () => {
  it('signs with the current platform certificate by default', async () => {
    const answer = await payCall(running.url, sim, 'GET', QUERY);
    const [current] = sim.pay.keys().certificates;
    expect(answer.res.headers.get('wechatpay-serial')).toBe(current?.serialNo);
    const certKey = new X509Certificate(current?.certificate ?? '').publicKey;
    expect(verifySigned(answer.res.headers, answer.text, certKey)).toBe(true);
    const publicKey = createPublicKey(sim.pay.keys().publicKey);
    expect(verifySigned(answer.res.headers, answer.text, publicKey)).toBe(false);
    expect(answer.res.headers.get('wechatpay-nonce')).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('signs with the WeChat Pay public key when the request names its id', async () => {
    const { publicKeyId, publicKey } = sim.pay.keys();
    expect(publicKeyId).toMatch(/^PUB_KEY_ID_\d{32}$/);
    const answer = await payCall(running.url, sim, 'GET', QUERY, undefined, {
      wechatpaySerial: publicKeyId,
    });
    expect(answer.status).toBe(404);
    expect(answer.res.headers.get('wechatpay-serial')).toBe(publicKeyId);
    expect(verifySigned(answer.res.headers, answer.text, createPublicKey(publicKey))).toBe(true);
    const other = await payCall(running.url, sim, 'GET', QUERY, undefined, {
      wechatpaySerial: 'PUB_KEY_ID_0000',
    });
    expect(other.res.headers.get('wechatpay-serial')).toBe(
      sim.pay.keys().certificates[0]?.serialNo,
    );
  });

  it('spoils the next responses on request, one tamper per call', async () => {
    const { publicKeyId, publicKey } = sim.pay.keys();
    const key = createPublicKey(publicKey);
    const call = () =>
      payCall(running.url, sim, 'GET', QUERY, undefined, { wechatpaySerial: publicKeyId });
    sim.pay.tamperNextResponse('unsigned');
    sim.pay.tamperNextResponse('bad-signature');
    sim.pay.tamperNextResponse('signtest');
    const unsigned = await call();
    expect(unsigned.status).toBe(404);
    expect([...unsigned.res.headers.keys()].some((h) => h.startsWith('wechatpay-'))).toBe(false);
    const bad = await call();
    expect(bad.res.headers.get('wechatpay-serial')).toBe(publicKeyId);
    expect(verifySigned(bad.res.headers, bad.text, key)).toBe(false);
    const probe = await call();
    expect(probe.res.headers.get('wechatpay-signature')).toMatch(/^WECHATPAY\/SIGNTEST\//);
    expect(verifySigned(probe.res.headers, probe.text, key)).toBe(false);
    const normal = await call();
    expect(verifySigned(normal.res.headers, normal.text, key)).toBe(true);
    expect(() => sim.pay.tamperNextResponse('nope' as 'unsigned')).toThrow();
  });
});

describe('/v3/certificates', () => {
  it('delivers encrypted certificates that decrypt to the serial listed', async () => {
    const answer = await payCall(running.url, sim, 'GET', '/v3/certificates', undefined, {
      wechatpaySerial: sim.pay.keys().publicKeyId,
    });
    expect(answer.status).toBe(200);
    const [entry, ...rest] = certificateEntries(answer);
    expect(rest).toEqual([]);
    if (!entry) throw new Error('no certificate');
    expect(entry.encrypt_certificate.algorithm).toBe('AEAD_AES_256_GCM');
    expect(entry.encrypt_certificate.associated_data).toBe('certificate');
    expect(entry.encrypt_certificate.nonce).toMatch(/^[A-Za-z0-9]{12}$/);
    const cert = decryptEntry(entry);
    expect(cert.serialNumber).toBe(entry.serial_no);
    expect(entry.effective_time).toBe('2025-01-15T12:00:00+08:00');
    expect(entry.expire_time).toBe('2030-01-14T12:00:00+08:00');
    expect(new Date(entry.expire_time).getTime()).toBe(new Date(cert.validTo).getTime());
    // Signed by a platform certificate even though the public key was asked for: self-check.
    expect(answer.res.headers.get('wechatpay-serial')).toBe(entry.serial_no);
    expect(verifySigned(answer.res.headers, answer.text, cert.publicKey)).toBe(true);
    expect(sim.pay.keys().certificates[0]?.certificate).toBe(cert.toString());
  });

  it('rotates with an overlap, retires on request and keeps at most two', async () => {
    const own = await startSimulator({ sim: newSim() });
    try {
      own.sim.pay.registerMerchant(merchantConfig());
      const download = () => payCall(own.url, own.sim, 'GET', '/v3/certificates');
      const first = own.sim.pay.keys().certificates[0]?.serialNo;
      own.sim.clock.advance(24 * 3600 * 1000);
      const second = own.sim.pay.rotateCertificate();
      const both = await download();
      const entries = certificateEntries(both);
      expect(entries.map((e) => e.serial_no)).toEqual([second, first]);
      expect(entries.map((e) => decryptEntry(e).serialNumber)).toEqual([second, first]);
      expect(entries[0]?.effective_time).toBe('2025-01-16T12:00:00+08:00');
      expect(both.res.headers.get('wechatpay-serial')).toBe(second);
      expect(() => own.sim.pay.retireCertificate(second)).toThrow(/rotate before retiring/);
      expect(() => own.sim.pay.retireCertificate('00')).toThrow(/unknown/);
      own.sim.pay.retireCertificate(first?.toLowerCase() ?? '');
      expect(certificateEntries(await download()).map((e) => e.serial_no)).toEqual([second]);
      const third = own.sim.pay.rotateCertificate();
      const fourth = own.sim.pay.rotateCertificate();
      const serials = own.sim.pay.keys().certificates.map((c) => c.serialNo);
      expect(serials).toEqual([fourth, third]);
    } finally {
      await own.close();
    }
  });
});
