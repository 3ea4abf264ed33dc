/**
 * The shared `tls` block for gRPC (@grpc/grpc-js), kept apart so only collectors with a gRPC
 * receiver or exporter load grpc-js. Server credentials follow rotated certificate files: grpc-js
 * lets credentials push new secure-context options to the servers bound with them.
 */
import * as grpc from '@grpc/grpc-js';
import { createSecureContext, SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { TlsClientConfig, TlsServerConfig, nodeMinVersion } from './config';
import { serverContextOptions } from './files';
import { clientTlsOptions } from './client';
import { serverConstructorOptions, watchTlsFiles } from './server';

class ReloadingServerCredentials extends grpc.ServerCredentials {
  constructor(constructorOptions: ReturnType<typeof serverConstructorOptions>, context: SecureContextOptions) {
    super(constructorOptions, context);
  }

  update(context: SecureContextOptions): void {
    this.updateSecureContextOptions(context);
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/** Server credentials for a `tls` block (or insecure without one), and the stop of its file watch. */
export function grpcServerCredentials(tls: TlsServerConfig | undefined, what: string, logger?: Logger): { credentials: grpc.ServerCredentials; stop(): void } {
  if (!tls) return { credentials: grpc.ServerCredentials.createInsecure(), stop: () => {} };
  const creds = new ReloadingServerCredentials(serverConstructorOptions(tls), serverContextOptions(tls, what));
  const stop = watchTlsFiles(tls, what, logger, (o) => creds.update(o));
  return { credentials: creds, stop };
}

/** Channel credentials for a client `tls` block; `secure` false means plaintext. */
export function grpcChannelCredentials(tls: TlsClientConfig, secure: boolean, what: string): grpc.ChannelCredentials {
  if (!secure) return grpc.credentials.createInsecure();
  const o = clientTlsOptions(tls, what);
  const context = createSecureContext({ ca: o.ca, cert: o.cert, key: o.key, minVersion: nodeMinVersion(tls.min_version) });
  return grpc.credentials.createFromSecureContext(context, {
    rejectUnauthorized: o.rejectUnauthorized,
    ...(o.rejectUnauthorized ? {} : { checkServerIdentity: () => undefined }),
  });
}

/** Channel options that go with the credentials (the name checked against the certificate). */
export function grpcChannelOptions(tls: TlsClientConfig): grpc.ChannelOptions {
  return tls.server_name_override ? { 'grpc.ssl_target_name_override': tls.server_name_override, 'grpc.default_authority': tls.server_name_override } : {};
}
