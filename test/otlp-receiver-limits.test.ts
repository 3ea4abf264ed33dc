/** An over-limit body reaches the client as a 413, also while the client is still writing it. */
import t from 'tap';
import { request } from 'node:http';
import { otlpConfig, startTest } from './helpers/collector';

/** Write `total` bytes in chunks, as an SDK streaming a large body, and read the answer. */
function upload(http: string, total: number, declare: boolean): Promise<{ status?: number; error?: string }> {
  const [host, port] = http.split(':');
  return new Promise((resolve) => {
    const req = request({ host, port: Number(port), method: 'POST', path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf', ...(declare ? { 'content-length': total } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
    });
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    const chunk = Buffer.alloc(16 * 1024, 0x0a);
    let sent = 0;
    const write = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

t.test('413 for a body over the limit, whether declared or streamed', async (t) => {
  const c = await startTest(otlpConfig(['nop'], { http: '        max_request_body_size: 100000', extra: 'exporters:\n  nop:\n' }));
  t.teardown(() => c.shutdown());
  for (const declare of [false, true]) {
    const r = await upload(c.http, 300 * 1024, declare);
    t.same(r, { status: 413 }, `${declare ? 'declared' : 'chunked'} 300 KiB body against a 100 KB limit`);
  }
});
