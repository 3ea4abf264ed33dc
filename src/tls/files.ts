/**
 * Reading certificate and key files with checks that name the file: unreadable, not PEM, expired or
 * not yet valid, a key that does not belong to the certificate. A listener that would fail every
 * handshake is refused at start instead.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import { TlsServerConfig, nodeMinVersion } from './config';

export class TlsConfigError extends Error {}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new TlsConfigError(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The first certificate of a PEM file, parsed, or a TlsConfigError naming the file. */
function leafCertificate(pem: Buffer, file: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new TlsConfigError(`${what}: ${file} holds no readable PEM certificate (${(e as Error).message})`);
  }
}

function checkValidity(cert: X509Certificate, file: string, what: string, now = Date.now()): void {
  if (Date.parse(cert.validTo) < now) throw new TlsConfigError(`${what}: the certificate in ${file} expired on ${cert.validTo}`);
  if (Date.parse(cert.validFrom) > now) throw new TlsConfigError(`${what}: the certificate in ${file} is not valid before ${cert.validFrom}`);
}

/** Certificate and key as TLS options, checked to be usable now. */
export function loadKeyPair(certFile: string, keyFile: string, what: string): { cert: Buffer; key: Buffer } {
  const cert = read(certFile, `${what}.cert_file`);
  const key = read(keyFile, `${what}.key_file`);
  const x509 = leafCertificate(cert, certFile, `${what}.cert_file`);
  checkValidity(x509, certFile, `${what}.cert_file`);
  let keyObject;
  try {
    keyObject = createPrivateKey(key);
  } catch (e) {
    throw new TlsConfigError(`${what}.key_file: ${keyFile} holds no readable unencrypted PEM private key (${(e as Error).message})`);
  }
  if (!x509.checkPrivateKey(keyObject)) throw new TlsConfigError(`${what}: the key in ${keyFile} does not match the certificate in ${certFile}`);
  return { cert, key };
}

/** A CA bundle, checked to hold at least one readable certificate. */
export function loadCa(file: string, what: string): Buffer {
  const pem = read(file, what);
  leafCertificate(pem, file, what);
  return pem;
}

/** The secure-context options of a listener's `tls` block (also what a reload hands to the server). */
export function serverContextOptions(c: TlsServerConfig, what: string): SecureContextOptions {
  const { cert, key } = loadKeyPair(c.cert_file, c.key_file, what);
  return {
    cert,
    key,
    ...(c.client_ca_file ? { ca: loadCa(c.client_ca_file, `${what}.client_ca_file`) } : {}),
    minVersion: nodeMinVersion(c.min_version),
  };
}

/** Modification times of a listener's files: a change means the certificate was rotated. */
export function fileStamp(c: TlsServerConfig): string {
  return [c.cert_file, c.key_file, c.client_ca_file].filter((f): f is string => !!f).map((f) => {
    try {
      const s = statSync(f);
      return `${s.mtimeMs}:${s.size}`;
    } catch {
      return 'missing';
    }
  }).join('|');
}
