/**
 * The one `tls` block every Vigil listener and client takes, in the OpenTelemetry Collector's terms
 * (configtls): servers have `cert_file`, `key_file`, `client_ca_file` (mutual TLS), `min_version`
 * and `reload_interval`; clients have `insecure`, `ca_file`, `cert_file`/`key_file` (mutual TLS),
 * `insecure_skip_verify`, `server_name_override` and `min_version`. Components put these schema
 * fragments in their own config schema instead of describing TLS again.
 */
import { durationSchema } from '../util/duration';

export type TlsVersion = '1.2' | '1.3';

export interface TlsServerConfig {
  cert_file: string;
  key_file: string;
  /** CA certificates that client certificates must chain to; when set, a client without one is refused. */
  client_ca_file?: string;
  min_version?: TlsVersion;
  /** How often the files are checked for a change (a rotated certificate); 0 turns reloading off. */
  reload_interval?: string | number;
}

export interface TlsClientConfig {
  /** Plaintext, no TLS (only for the gRPC exporter, whose endpoint carries no scheme). */
  insecure?: boolean;
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  insecure_skip_verify?: boolean;
  server_name_override?: string;
  min_version?: TlsVersion;
}

export const DEFAULT_MIN_VERSION: TlsVersion = '1.3';
export const DEFAULT_RELOAD_INTERVAL = '1m';

const minVersionSchema = {
  enum: ['1.2', '1.3'],
  default: DEFAULT_MIN_VERSION,
  description: 'Oldest TLS version accepted. 1.3 by default; "1.2" for peers that cannot do 1.3.',
};

/** The `tls` block of a listener. Present means the listener speaks only TLS. */
export const tlsServerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cert_file', 'key_file'],
  description: 'Serve over TLS only. Certificate problems (unreadable, expired, key not matching) stop the start with the file named.',
  properties: {
    cert_file: { type: 'string', minLength: 1, description: 'Server certificate chain (PEM).' },
    key_file: { type: 'string', minLength: 1, description: 'Private key of the certificate (PEM).' },
    client_ca_file: { type: 'string', minLength: 1, description: 'CA certificates (PEM) for mutual TLS: clients must present a certificate they signed.' },
    min_version: minVersionSchema,
    reload_interval: durationSchema(DEFAULT_RELOAD_INTERVAL, 'How often the files are checked for a rotated certificate, loaded without a restart; 0 turns this off.'),
  },
};

/** The `tls` block of a client (an exporter or notifier sending to an https or gRPC endpoint). */
export const tlsClientSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'TLS settings for https (or secure gRPC) endpoints.',
  properties: {
    insecure: { type: 'boolean', default: false, description: 'gRPC only: plaintext connection (no TLS).' },
    ca_file: { type: 'string', minLength: 1, description: 'PEM file of CA certificates to trust instead of the system ones.' },
    cert_file: { type: 'string', minLength: 1, description: 'Client certificate (PEM) for mutual TLS.' },
    key_file: { type: 'string', minLength: 1, description: 'Client private key (PEM) for mutual TLS.' },
    insecure_skip_verify: { type: 'boolean', default: false, description: 'Do not verify the server certificate (testing only).' },
    server_name_override: { type: 'string', minLength: 1, description: 'Name to verify the server certificate against (and send as SNI).' },
    min_version: minVersionSchema,
  },
};

/** Config problems the schema cannot express; components add these to their `validate`. */
export function tlsClientProblems(c: TlsClientConfig | undefined, path: string[] = ['tls']): Array<{ path: string[]; message: string }> {
  if (!c) return [];
  return !!c.cert_file !== !!c.key_file ? [{ path, message: 'cert_file and key_file go together' }] : [];
}

export function nodeMinVersion(v: TlsVersion | undefined): 'TLSv1.2' | 'TLSv1.3' {
  return (v ?? DEFAULT_MIN_VERSION) === '1.2' ? 'TLSv1.2' : 'TLSv1.3';
}
