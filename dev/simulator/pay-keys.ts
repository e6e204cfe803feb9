import type { KeyObject } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import type { SimClock } from './clock';
import { newPublicKeyId } from './pay-crypto';
import { createSelfSignedCertificate } from './x509';

/** Which WeChat Pay key signs: the public-key-mode key or the current platform certificate. */
export type PayKeyMode = 'publicKey' | 'certificate';

/** Validity of a simulator platform certificate (WeChat issues 5-year ones). */
export const PLATFORM_CERT_VALIDITY_MS = 5 * 365 * 24 * 60 * 60 * 1000;

/** One platform certificate the simulator holds, with its private key. */
export interface PlatformCertificate {
  /** Upper-case hex serial, as in `Wechatpay-Serial` and `/v3/certificates`. */
  serialNo: string;
  pem: string;
  privateKey: KeyObject;
  notBefore: number;
  notAfter: number;
}

/** What a merchant copies into its configuration. */
export interface PayKeysExport {
  publicKeyId: string;
  /** SPKI PEM of the WeChat Pay public key. */
  publicKey: string;
  /** Current platform certificates, the signing one first. */
  certificates: Array<{ serialNo: string; certificate: string }>;
}

/** A key that signs one response or notification, and the serial to announce with it. */
export interface PaySigner {
  serial: string;
  privateKey: KeyObject;
}

interface Material {
  publicKeyId: string;
  publicKeyPem: string;
  publicKeyPrivate: KeyObject;
  /** Signing certificate first; at most one previous one (the rotation overlap). */
  certificates: PlatformCertificate[];
}

function rsaPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/**
 * WeChat Pay's own keys: one public-key-mode key (`PUB_KEY_ID_…`) and platform certificates.
 * Generated on first use, so simulators that never touch pay never pay for RSA key generation.
 */
export class PayKeys {
  private material: Material | undefined;

  constructor(private readonly clock: SimClock) {}

  private get keys(): Material {
    if (!this.material) {
      const pair = rsaPair();
      this.material = {
        publicKeyId: newPublicKeyId(),
        publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        publicKeyPrivate: pair.privateKey,
        certificates: [this.issueCertificate()],
      };
    }
    return this.material;
  }

  private issueCertificate(): PlatformCertificate {
    const pair = rsaPair();
    const notBefore = Math.floor(this.clock.now() / 1000) * 1000;
    const notAfter = notBefore + PLATFORM_CERT_VALIDITY_MS;
    const cert = createSelfSignedCertificate({ ...pair, notBefore, notAfter });
    return {
      serialNo: cert.serialNo,
      pem: cert.pem,
      privateKey: pair.privateKey,
      notBefore,
      notAfter,
    };
  }

  /** The `PUB_KEY_ID_…` of the public-key-mode key. */
  get publicKeyId(): string {
    return this.keys.publicKeyId;
  }

  /** Current certificates, the signing one first. */
  certificates(): readonly PlatformCertificate[] {
    return this.keys.certificates;
  }

  /** Issue a new signing certificate; the previous signing one stays listed, older ones go. */
  rotate(): PlatformCertificate {
    const next = this.issueCertificate();
    const previous = this.keys.certificates[0];
    this.keys.certificates = previous ? [next, previous] : [next];
    return next;
  }

  /** Stop listing a non-signing certificate. Throws for the signing one or an unknown serial. */
  retire(serialNo: string): void {
    const list = this.keys.certificates;
    const index = list.findIndex((c) => c.serialNo.toUpperCase() === serialNo.toUpperCase());
    if (index < 0) throw new Error(`unknown platform certificate serial ${serialNo}`);
    if (index === 0)
      throw new Error(`certificate ${serialNo} signs now: rotate before retiring it`);
    list.splice(index, 1);
  }

  /** The key to sign with in `mode`, and the serial that names it. */
  signer(mode: PayKeyMode): PaySigner {
    const keys = this.keys;
    if (mode === 'publicKey')
      return { serial: keys.publicKeyId, privateKey: keys.publicKeyPrivate };
    const [current] = keys.certificates;
    if (!current) throw new Error('no platform certificate');
    return { serial: current.serialNo, privateKey: current.privateKey };
  }

  /** Public material, as a merchant configures it. */
  export(): PayKeysExport {
    const keys = this.keys;
    return {
      publicKeyId: keys.publicKeyId,
      publicKey: keys.publicKeyPem,
      certificates: keys.certificates.map((c) => ({ serialNo: c.serialNo, certificate: c.pem })),
    };
  }
}
