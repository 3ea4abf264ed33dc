/**
 * The redaction processor: property tests (random text with embedded card numbers and emails never
 * leaks them), Luhn keeps ordinary numbers, keyed hashing is stable and keyed, blocked keys, drop,
 * counts as attributes and metrics.
 */
import t from 'tap';
import { randomInt } from 'node:crypto';
import { silentLogger } from '../src/logger';
import { Telemetry } from '../src/telemetry';
import type { Logs, Traces } from '../src/model';
import { RedactionConfig, redactionProcessorFactory } from '../processors/redaction';
import { luhn, Redactor } from '../processors/redaction/redact';

function cardNumber(): string {
  const len = [13, 15, 16, 19][randomInt(4)];
  const digits = Array.from({ length: len - 1 }, () => randomInt(10));
  for (let check = 0; check < 10; check++) if (luhn(digits.join('') + check)) return digits.join('') + check;
  throw new Error('unreachable');
}
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ,;:!?()[]{}"\'/\\_';
const noise = (n: number) => Array.from({ length: n }, () => LETTERS[randomInt(LETTERS.length)]).join('');
const sep = (card: string) => {
  const s = [' ', '-', ''][randomInt(3)];
  return s ? card.replace(/(\d{4})(?=\d)/g, `$1${s}`) : card;
};
const email = () => `${noise(0)}${'user' + randomInt(1e6)}.${['x', 'y_z', 'a+b'][randomInt(3)]}@${['example', 'mail-host'][randomInt(2)]}.${['com', 'co.uk', 'io'][randomInt(3)]}`;

const ALL: RedactionConfig = { allow_all_keys: true, allowed_keys: [], blocked_keys: ['(?:^|[._-])(password|token)$'], ignored_keys: [], patterns: ['email', 'card', 'ipv4', 'jwt', 'url_credentials', 'secret_params'], action: 'mask', summary: true };

t.test('property: embedded card numbers and emails never leak', async (t) => {
  const r = new Redactor({ patterns: ALL.patterns, action: 'mask' });
  let leaks = 0;
  for (let i = 0; i < 500; i++) {
    const card = cardNumber();
    const written = sep(card);
    const mail = email();
    const text = `${noise(randomInt(40))}${written}${noise(randomInt(1, 40))}${mail}${noise(randomInt(1, 40))}`;
    const out = r.redact(text).value;
    if (out.includes(written) || out.replace(/[ -]/g, '').includes(card) || out.includes(mail) || out.includes(mail.split('@')[1] + '') && out.includes(mail.split('@')[0])) {
      leaks++;
      t.fail(`leaked: ${JSON.stringify(text)} → ${JSON.stringify(out)}`);
      if (leaks > 5) break;
    }
  }
  t.equal(leaks, 0);
});

t.test('Luhn keeps ordinary numbers; other patterns', async (t) => {
  const r = new Redactor({ patterns: ALL.patterns, action: 'mask' });
  t.equal(r.redact('order 4111111111111112 shipped').value, 'order 4111111111111112 shipped', 'fails Luhn: kept');
  t.equal(r.redact('card 4111 1111 1111 1111 ok').value, 'card **** ok');
  t.equal(r.redact('from 203.0.113.9 at 12:00').value, 'from **** at 12:00');
  t.equal(r.redact('version 1.2.3.4.5').value, 'version 1.2.3.4.5', 'not an address inside a longer dotted number');
  t.equal(r.redact('GET https://bob:hunter2@db.internal/x').value, 'GET https://****@db.internal/x');
  t.equal(r.redact('/login?user=al&password=hunter2&x=1').value, '/login?user=al&password=****&x=1');
  t.match(r.redact('Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcDEF123_-').value, /^Bearer \*\*\*\*$/);
});

function traces(attrs: Record<string, unknown>): Traces {
  return { resourceSpans: [{ resource: { attributes: {}, droppedAttributesCount: 0 } as never, schemaUrl: '', scopeSpans: [{ scope: {} as never, schemaUrl: '', spans: [{ attributes: { ...attrs }, events: [{ name: 'e', timeUnixNano: 0n, attributes: { note: 'mail me at a.b@example.com' }, droppedAttributesCount: 0 }] } as never] }] }] };
}

async function run(config: Partial<RedactionConfig>, data: Traces | Logs, signal: 'traces' | 'logs' = 'traces') {
  const telemetry = new Telemetry({ processMetrics: false });
  const got: unknown[] = [];
  const p = redactionProcessorFactory.create({ id: 'redaction', config: { ...ALL, ...config }, logger: silentLogger(), telemetry, dataDir: ':memory:' }, signal, { consume: async (d: unknown) => void got.push(d) } as never);
  await p.consume(data as never);
  return { out: got[0] as any, metrics: await telemetry.registry.metrics() };
}

t.test('processor: mask, counts, blocked keys, metric', async (t) => {
  const { out, metrics } = await run({}, traces({ 'user.email': 'jo@example.com', 'db.password': 12345, 'http.route': '/a', 'url.full': 'https://x/?token=abc' }));
  const span = out.resourceSpans[0].scopeSpans[0].spans[0];
  t.equal(span.attributes['user.email'], '****');
  t.equal(span.attributes['db.password'], '****', 'blocked key, whatever the type');
  t.equal(span.attributes['http.route'], '/a');
  t.equal(span.attributes['url.full'], 'https://x/?token=****');
  t.equal(span.events[0].attributes.note, 'mail me at ****');
  t.equal(span.attributes['redaction.redacted.count'], 4);
  t.match(metrics, /vigil_processor_redaction_redacted_total\{processor="redaction",action="mask"\} 4/);
});

t.test('processor: keyed hash is stable, keyed, unreadable; drop removes; allow-list', async (t) => {
  const h1 = (await run({ action: 'hash', hash_key: 'k1-0123456789abcdef' }, traces({ 'enduser.id': 'x', 'user.email': 'jo@example.com' }))).out.resourceSpans[0].scopeSpans[0].spans[0].attributes['user.email'];
  const h2 = (await run({ action: 'hash', hash_key: 'k1-0123456789abcdef' }, traces({ 'user.email': 'jo@example.com' }))).out.resourceSpans[0].scopeSpans[0].spans[0].attributes['user.email'];
  const h3 = (await run({ action: 'hash', hash_key: 'k2-0123456789abcdef' }, traces({ 'user.email': 'jo@example.com' }))).out.resourceSpans[0].scopeSpans[0].spans[0].attributes['user.email'];
  t.match(h1, /^hmac:[0-9a-f]{16}$/);
  t.equal(h1, h2, 'same user, same key: correlatable');
  t.not(h1, h3, 'another key: another value');
  const dropped = (await run({ action: 'drop' }, traces({ 'user.email': 'jo@example.com', keep: 'x' }))).out.resourceSpans[0].scopeSpans[0].spans[0].attributes;
  t.same(Object.keys(dropped).sort(), ['keep', 'redaction.dropped.count']);
  const allow = (await run({ allow_all_keys: false, allowed_keys: ['http.route'] }, traces({ 'http.route': '/a', other: 'x' }))).out.resourceSpans[0].scopeSpans[0].spans[0].attributes;
  t.same(allow, { 'http.route': '/a', 'redaction.dropped.count': 2 }, 'other, and the event note');
  t.same(redactionProcessorFactory.validate!({ ...ALL, action: 'hash' }).map((p) => p.path), [['hash_key']]);
});

t.test('processor: log bodies', async (t) => {
  const logs = { resourceLogs: [{ resource: {} as never, schemaUrl: '', scopeLogs: [{ scope: {} as never, schemaUrl: '', logRecords: [{ body: 'payment 4111-1111-1111-1111 by jo@example.com', attributes: {} } as never] }] }] } as Logs;
  const { out } = await run({}, logs, 'logs');
  const rec = out.resourceLogs[0].scopeLogs[0].logRecords[0];
  t.equal(rec.body, 'payment **** by ****');
  t.equal(rec.attributes['redaction.redacted.count'], 2);
});
