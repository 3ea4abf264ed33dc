/**
 * Listeners with the shared `tls` block: an HTTP server that becomes HTTPS when `tls` is set
 * (mutual TLS when `client_ca_file` is), and the reloading of rotated certificate files without a
 * restart. Connections already open keep the certificate they started with; new handshakes get the
 * new one. A rotation that leaves unusable files is logged and the previous certificate stays.
 */
import { createServer as createHttp, RequestListener, Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { parseDuration } from '../util/duration';
import { DEFAULT_RELOAD_INTERVAL, TlsServerConfig } from './config';
import { fileStamp, serverContextOptions } from './files';

/** Options fixed for the life of a listener (the parts a reload does not change). */
export function serverConstructorOptions(c: TlsServerConfig): { requestCert: boolean; rejectUnauthorized: boolean } {
  const mutual = !!c.client_ca_file;
  return { requestCert: mutual, rejectUnauthorized: mutual };
}

/**
 * Check the files every `reload_interval`; when they changed, load them and hand the new options to
 * `apply`. Returns the function that stops watching.
 */
export function watchTlsFiles(c: TlsServerConfig, what: string, logger: Logger | undefined, apply: (o: SecureContextOptions) => void): () => void {
  const every = parseDuration(c.reload_interval ?? DEFAULT_RELOAD_INTERVAL);
  if (every <= 0) return () => {};
  let stamp = fileStamp(c);
  const timer = setInterval(() => {
    const now = fileStamp(c);
    if (now === stamp) return;
    stamp = now;
    try {
      apply(serverContextOptions(c, what));
      logger?.info({ listener: what, cert_file: c.cert_file }, 'TLS certificate reloaded');
    } catch (e) {
      // Keep serving with the previous certificate; the next change of the files is tried again.
      logger?.error({ listener: what, err: (e as Error).message }, 'TLS certificate not reloaded; the previous one stays in use');
    }
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * `http.createServer`, or `https.createServer` with the `tls` block's certificate, client CA and
 * minimum version, reloaded on rotation until the server closes. Throws a TlsConfigError naming the
 * file when the certificate cannot be used.
 */
export function createListenerServer(tls: TlsServerConfig | undefined, what: string, logger: Logger | undefined, handler: RequestListener): Server {
  if (!tls) return createHttp(handler);
  const server = createHttps({ ...serverConstructorOptions(tls), ...serverContextOptions(tls, what) }, handler);
  const stop = watchTlsFiles(tls, what, logger, (o) => server.setSecureContext(o));
  server.on('close', stop);
  // A failed handshake (wrong CA, old TLS version, no client certificate) is the client's problem:
  // it is answered by the TLS alert and must not reach the process's error handling.
  server.on('tlsClientError', (e) => logger?.debug({ listener: what, err: e.message }, 'TLS handshake refused'));
  return server as unknown as Server;
}
