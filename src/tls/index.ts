/** The shared `tls` block: schema fragments, listeners (HTTP and gRPC) and client options. See config.ts. */
export { TlsServerConfig, TlsClientConfig, TlsVersion, tlsServerSchema, tlsClientSchema, tlsClientProblems } from './config';
export { TlsConfigError } from './files';
export { createListenerServer, watchTlsFiles } from './server';
export { clientTlsOptions } from './client';
