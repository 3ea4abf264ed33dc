/**
 * The shared client `tls` block as Node TLS options, for every https client (otlphttp, webhook,
 * alertmanager and the other HTTP notifiers). Files are read and checked when the client is built,
 * so a missing or expired client certificate fails the start with the file named, not the first send.
 */
import { TlsClientConfig, nodeMinVersion } from './config';
import { loadCa, loadKeyPair } from './files';

export interface NodeClientTlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export function clientTlsOptions(tls: TlsClientConfig = {}, what = 'tls'): NodeClientTlsOptions {
  const pair = tls.cert_file && tls.key_file ? loadKeyPair(tls.cert_file, tls.key_file, what) : undefined;
  return {
    ...(tls.ca_file ? { ca: loadCa(tls.ca_file, `${what}.ca_file`) } : {}),
    ...(pair ?? {}),
    rejectUnauthorized: !tls.insecure_skip_verify,
    ...(tls.server_name_override ? { servername: tls.server_name_override } : {}),
    minVersion: nodeMinVersion(tls.min_version),
  };
}
