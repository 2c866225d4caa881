// A throw-away certificate authority for the simulator: ECDSA P-256 (fast to generate),
// leaf certificates for any name with any validity window, and self-signed leaves.
import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// @peculiar/x509 (via tsyringe) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export interface LeafOptions {
  /** subjectAltName dNSName entries; the first is also the CN. */
  dnsNames: string[];
  notBefore: Date;
  notAfter: Date;
  /** Sign with a fresh key of its own instead of the CA (an untrusted, self-signed certificate). */
  selfSigned?: boolean;
}

export interface TestCa {
  certPem: string;
  issue(options: LeafOptions): Promise<IssuedCertificate>;
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  return toPem(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function randomSerial(): string {
  // Positive (high bit clear), 16 bytes.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

function leafExtensions(dnsNames: string[]): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value }))),
  ];
}

/** Generate a CA valid from a day ago for ten years. */
export async function createTestCa(commonName = 'mta-sts-kit simulation CA'): Promise<TestCa> {
  const caKeys = await generateKeys();
  const now = Date.now();
  const caName = `CN=${commonName}, O=mta-sts-kit`;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: caName,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    signingAlgorithm: SIGN_ALG,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const certPem = caCert.toString('pem');

  async function issue(options: LeafOptions): Promise<IssuedCertificate> {
    const keys = await generateKeys();
    const cn = options.dnsNames[0] ?? 'unnamed';
    const base = {
      serialNumber: randomSerial(),
      notBefore: options.notBefore,
      notAfter: options.notAfter,
      signingAlgorithm: SIGN_ALG,
    };
    let cert: x509.X509Certificate;
    if (options.selfSigned) {
      cert = await x509.X509CertificateGenerator.createSelfSigned({
        ...base,
        name: `CN=${cn}`,
        keys,
        extensions: leafExtensions(options.dnsNames),
      });
    } else {
      cert = await x509.X509CertificateGenerator.create({
        ...base,
        subject: `CN=${cn}`,
        issuer: caCert.subject,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        extensions: [
          ...leafExtensions(options.dnsNames),
          await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
        ],
      });
    }
    return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
  }

  return { certPem, issue };
}
