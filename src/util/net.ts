import type { Server } from 'node:http';
import type { Server as NetServer } from 'node:net';

export interface Endpoint {
  host: string;
  port: number;
}

/** "127.0.0.1:4318", ":4318" (all interfaces, as in the Collector), "[::1]:4318", "localhost:0". */
export function parseEndpoint(s: string, what = 'endpoint'): Endpoint {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s.trim());
  if (!m) throw new Error(`${what}: invalid endpoint "${s}", expected host:port such as 127.0.0.1:4318`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`${what}: port ${port} is out of range`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** Listen and resolve with the bound "host:port" (port 0 picks a free one). */
export function listen(server: Server | NetServer, ep: Endpoint): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(new Error(`cannot listen on ${ep.host}:${ep.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    server.once('error', onError);
    server.listen(ep.port, ep.host, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : String(a));
    });
  });
}
