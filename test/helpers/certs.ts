/**
 * Certificates made at test time with the `openssl` CLI (no private key is committed): a CA, server
 * certificates for 127.0.0.1/localhost signed by it, client certificates, an expired one.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export class CertFactory {
  readonly dir = mkdtempSync(join(tmpdir(), 'vigil-certs-'));
  private n = 0;

  /** A self-signed CA. */
  ca(name: string): Pem {
    const p = this.paths(name);
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p.key, '-out', p.cert,
      '-subj', `/CN=${name}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], this.dir);
    return p;
  }

  /**
   * A certificate signed by `ca`: a server one valid for 127.0.0.1 and localhost, or a client one.
   * `days` -1 makes one that has already expired.
   */
  issue(ca: Pem, name: string, o: { client?: boolean; days?: number } = {}): Pem {
    const p = this.paths(name);
    const csr = join(this.dir, `${name}.csr`);
    const ext = join(this.dir, `${name}.ext`);
    writeFileSync(ext, o.client
      ? 'extendedKeyUsage=clientAuth\n'
      : 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p.key, '-out', csr, '-subj', `/CN=${name}`], this.dir);
    openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(Date.now() * 100 + ++this.n),
      '-days', String(o.days ?? 2), '-extfile', ext, '-out', p.cert], this.dir);
    return p;
  }

  read(p: Pem): { cert: Buffer; key: Buffer } {
    return { cert: readFileSync(p.cert), key: readFileSync(p.key) };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private paths(name: string): Pem {
    return { cert: join(this.dir, `${name}.pem`), key: join(this.dir, `${name}-key.pem`) };
  }
}
