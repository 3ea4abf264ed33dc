/**
 * Decode speed of the hand-written OTLP trace decoder against protobufjs reflection decoding the
 * same bytes (which only builds message objects, so it does less work than ours: no model, no
 * hex ids, no bigint times).
 *
 *   node dist/bench/codec.js [--spans N] [--seconds S] [request.pb ...]
 *
 * Payloads: a synthetic HTTP-server batch (one resource with 10 attributes, N spans with 10
 * attributes each), SDK-made spans from bench/payloads.ts, and any ExportTraceServiceRequest
 * files given as arguments.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Traces, countSpans } from '../src/model';
import { MESSAGE_TYPES, decodeTraces, encodeTraces, messageType, tracesFromJson, tracesToJson } from '../src/otlp';
import { buildPayloads } from './payloads';

interface Args { spans: number; seconds: number; files: string[] }

function parseArgs(argv: string[]): Args {
  const a: Args = { spans: 300, seconds: 1.5, files: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--spans') a.spans = Number(argv[++i]);
    else if (argv[i] === '--seconds') a.seconds = Number(argv[++i]);
    else a.files.push(argv[i]);
  }
  if (!(a.spans >= 1) || !(a.seconds > 0)) throw new Error('usage: codec [--spans N] [--seconds S] [request.pb ...]');
  return a;
}

const ROUTES = ['/api/cart/{id}', '/api/checkout', '/api/products/{id}', '/login', '/api/search', '/api/orders/{id}'];

export function httpServerBatch(n: number): Traces {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = [];
  for (let i = 0; i < n; i++) {
    const route = ROUTES[i % ROUTES.length];
    const start = now + BigInt(i) * 1_234_567n;
    spans.push({
      traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceState: '',
      parentSpanId: i % 3 === 0 ? '' : randomBytes(8).toString('hex'), flags: 0x101,
      name: `GET ${route}`, kind: 2, startTimeUnixNano: start, endTimeUnixNano: start + 15_000_000n + BigInt(i),
      attributes: {
        'http.request.method': i % 4 === 0 ? 'POST' : 'GET',
        'http.route': route,
        'url.path': route.replace('{id}', String(10_000 + i)),
        'url.scheme': 'https',
        'server.address': 'shop.example.com',
        'server.port': 443,
        'client.address': `10.${i % 200}.${(i * 7) % 250}.${(i * 13) % 250}`,
        'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
        'network.protocol.version': '1.1',
        'http.response.status_code': i % 23 === 0 ? 500 : 200,
      },
      droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0,
      status: { code: i % 23 === 0 ? 2 : 0, message: '' },
    });
  }
  return {
    resourceSpans: [{
      resource: {
        attributes: {
          'service.name': 'checkout', 'service.version': '1.4.2', 'service.namespace': 'shop',
          'service.instance.id': randomBytes(8).toString('hex'), 'deployment.environment.name': 'production',
          'host.name': 'node-3.eu-west-1.compute.internal', 'host.arch': 'amd64', 'os.type': 'linux',
          'process.pid': 4242, 'telemetry.sdk.language': 'nodejs',
        },
        droppedAttributesCount: 0,
      },
      schemaUrl: '',
      scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.57.0', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', spans }],
    }],
  };
}

/**
 * Items per CPU-second of `fn` (`items` items per call), run for about `seconds` of wall time
 * after a warm-up. CPU time rather than wall time, so other work on a shared machine skews the
 * figure less (it still shares caches and turbo headroom).
 */
function rate(fn: () => unknown, items: number, seconds: number): number {
  const warmUntil = performance.now() + Math.min(500, seconds * 300);
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const cpu0 = process.cpuUsage();
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 5; i++) fn();
    calls += 5;
  }
  const cpu = process.cpuUsage(cpu0);
  return (calls * items) / ((cpu.user + cpu.system) / 1e6);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function measure(label: string, buf: Uint8Array, seconds: number): void {
  const spans = countSpans(decodeTraces(buf));
  const type = messageType(MESSAGE_TYPES.traces.request);
  const ours = rate(() => decodeTraces(buf), spans, seconds);
  const reflection = rate(() => type.decode(buf), spans, seconds);
  const model = decodeTraces(buf);
  const encode = rate(() => encodeTraces(model), spans, seconds);
  const jsonText = JSON.stringify(tracesToJson(model));
  const json = rate(() => tracesFromJson(JSON.parse(jsonText)), spans, seconds);
  console.log(`${label}: ${spans} spans, ${buf.length} bytes (${Math.round(buf.length / spans)} B/span)`);
  console.log(`  decodeTraces            ${fmt(ours).padStart(12)} spans/cpu-s`);
  console.log(`  protobufjs Type.decode  ${fmt(reflection).padStart(12)} spans/cpu-s   ratio ${(ours / reflection).toFixed(2)}x`);
  console.log(`  encodeTraces            ${fmt(encode).padStart(12)} spans/cpu-s`);
  console.log(`  JSON.parse+fromJson     ${fmt(json).padStart(12)} spans/cpu-s`);
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  measure(`synthetic HTTP server batch`, encodeTraces(httpServerBatch(args.spans)), args.seconds);
  const sdk = await buildPayloads({ signal: 'traces', encoding: 'protobuf', gzip: false, itemsPerRequest: args.spans, distinct: 1 });
  measure('OpenTelemetry JS SDK spans (ProtobufTraceSerializer)', sdk.payloads[0].body, args.seconds);
  for (const f of args.files) measure(f, readFileSync(f), args.seconds);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
