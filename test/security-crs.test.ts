/**
 * The OWASP CRS rule engine inside the `security` processor: loading, the unsupported-rule list,
 * variables, operators, transformations, chains, paranoia levels, anomaly scoring, linear-time
 * regular expressions, and the processor reporting CRS rule ids as evidence. The fixtures are
 * small rule files in CRS's syntax; security-crs-debian.test.ts loads Debian's CRS 3.3.
 */
import t from 'tap';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { CrsRuleSet, CrsRequest } from '../processors/security/crs/ruleset';
import { crsRequest } from '../processors/security/crs/request';
import { captureExporter, startTest } from './helpers/collector';
import { RESOURCE, traceExporter } from './helpers/sdk';

const FIXTURES = join(__dirname, 'fixtures/security/crs');

function request(over: Partial<CrsRequest> = {}): CrsRequest {
  return { method: 'GET', uri: '/', path: '/', query: '', protocol: 'HTTP/1.1', args: [], headers: [['host', 'shop.example'], ['user-agent', 'Mozilla/5.0']], cookies: [], body: '', ...over };
}
const get = (name: string, value: string): CrsRequest => request({ uri: `/s?${name}=${encodeURIComponent(value)}`, query: `${name}=${encodeURIComponent(value)}`, args: [{ name, value, from: 'get' }] });
const ids = (rs: CrsRuleSet, req: CrsRequest, pl = 1): number[] => rs.evaluate(req, pl).matches.map((m) => m.id);

t.test('loads rule files, lists every rule it cannot run with the reason', async (t) => {
  const { ruleset, result } = CrsRuleSet.load([FIXTURES]);
  t.equal(result.files.length, 2, 'REQUEST-*.conf files of the directory');
  t.equal(result.control, 3, 'defaults, paranoia gate and marker are control flow');
  t.equal(ruleset.size, 9);
  const why = (id: number) => result.unsupported.find((u) => u.startsWith(`${id} `)) ?? '';
  t.match(why(940900), /RE2 cannot compile/, 'a lookahead is listed, not silently ignored');
  t.match(why(940910), /no variable available from spans \(XML\)/);
  t.match(why(940920), /operator @geoLookup/);
  t.equal(result.unsupported.length, 3);
});

t.test('operators, transformations, chains, captures and paranoia levels', async (t) => {
  const { ruleset: rs } = CrsRuleSet.load([FIXTURES]);
  t.same(ids(rs, get('q', 'summer shoes')), [], 'a plain search matches nothing');
  t.same(ids(rs, get('id', "1' UNION SELECT password FROM users--")), [940100], '@detectSQLi answered by Vigil');
  t.same(ids(rs, get('id', '1 AND sl/**/eep(5)')), [940110], 't:removeComments before @rx');
  t.same(ids(rs, request({ headers: [['user-agent', 'x BENCHMARK (1000,md5(1))']] })), [940110], 'REQUEST_HEADERS:User-Agent, case-insensitive regex');
  t.same(ids(rs, get('name', '<svg onload=alert(1)>')), [940200], '@detectXSS answered by Vigil');
  t.same(ids(rs, request({ path: '/static/..\\..\\etc\\passwd', uri: '/static/..%5c..%5cetc%5cpasswd' })), [940300], '@pmFromFile after normalizePathWin and lowercase');
  t.same(ids(rs, get('cmd', 'w"g"et http://x/')), [], 'PL2 rule off at PL1');
  t.same(ids(rs, get('cmd', 'w"g"et http://x/'), 2), [940310], '... on at PL2, after t:cmdLine');
  t.same(ids(rs, request({ method: 'TRACE' })), [940400], 'negated @within a default harvested from a setvar');
  t.same(ids(rs, get('range', '2000 - 5')), [940500], 'chain reads the capture TX:1');
  t.same(ids(rs, get('range', '5 - 2000')), [], 'chain condition false');
  const cookie = request({ cookies: [['_ga', "1' or '1'='1"], ['theme', 'dark']] });
  t.same(ids(rs, cookie), [], 'excluded cookie (!REQUEST_COOKIES:/^_ga/) is not read');
  const ev = rs.evaluate(get('id', "1' UNION SELECT password FROM users--"), 1);
  t.equal(ev.score, 5, 'critical = 5 anomaly points');
  t.equal(ev.matches[0].variable, 'ARGS:id');
  t.equal(ev.matches[0].msg, 'SQL injection (Vigil detector)');
});

t.test('requests are rebuilt from span attributes as ModSecurity parses them', async (t) => {
  const r = crsRequest({ 'http.request.method': 'POST', 'url.full': 'https://shop.example/cart?x=%3Cb%3E&y=1', 'http.request.header.cookie': 'a=1; b=two', 'http.request.header.x-forwarded-for': ['10.0.0.1', '10.0.0.2'], 'http.request.body': '{"user":{"name":"ann"},"tags":["x"]}', 'user_agent.original': 'curl/8' });
  t.equal(r.uri, '/cart?x=%3Cb%3E&y=1');
  t.same(r.args, [{ name: 'x', value: '<b>', from: 'get' }, { name: 'y', value: '1', from: 'get' }, { name: 'json.user.name', value: 'ann', from: 'post' }, { name: 'json.tags.0', value: 'x', from: 'post' }]);
  t.same(r.cookies, [['a', '1'], ['b', 'two']]);
  t.ok(r.headers.some(([n, v]) => n === 'x-forwarded-for' && v === '10.0.0.1, 10.0.0.2'));
  t.ok(r.headers.some(([n, v]) => n === 'user-agent' && v === 'curl/8'));
  const form = crsRequest({ 'http.request.method': 'POST', 'url.path': '/login', 'http.request.body': 'id=1%27+or+1%3D1' });
  t.same(form.args, [{ name: 'id', value: "1' or 1=1", from: 'post' }], 'a single-field form body');
});

t.test('rule evaluation stays linear on 1 MB adversarial values', async (t) => {
  const { ruleset: rs } = CrsRuleSet.load([FIXTURES]);
  for (const v of ['a'.repeat(1 << 20) + '!', "'".repeat(1 << 20), '<a '.repeat((1 << 20) / 3), '%'.repeat(1 << 20), '\\'.repeat(1 << 20), '/*'.repeat(1 << 19)]) {
    // (a+)+$ backtracks exponentially on "aaa…!" in a backtracking engine; RE2 is linear.
    const ev = rs.evaluate(get('q', v), 4);
    t.ok(Array.isArray(ev.matches), `${JSON.stringify(v.slice(0, 8))}… evaluated (${ev.matches.map((m) => m.id).join(',') || 'no match'})`);
  }
});

t.test('the processor reports CRS rule ids and messages as evidence', async (t) => {
  const { factory, capture } = captureExporter();
  const vigil = await startTest(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  security:
    persist: false
    profile:
      enabled: false
    sqli:
      enabled: false
    crs:
      enabled: true
      rules: [${FIXTURES}]
exporters:
  capture:
service:
  telemetry:
    metrics:
      address: null
  pipelines:
    traces:
      receivers: [otlp]
      processors: [security]
      exporters: [capture]
`, [factory]);
  t.teardown(() => vigil.shutdown());
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes(RESOURCE), spanProcessors: [new BatchSpanProcessor(traceExporter('http/json', vigil), { scheduledDelayMillis: 20 })] });
  t.teardown(() => provider.shutdown());
  const tracer = provider.getTracer('shop');
  const span = (name: string, kind: SpanKind, attributes: Record<string, string>) => tracer.startSpan(name, { kind, attributes: { 'http.request.method': 'GET', ...attributes } }).end();
  span('sqli', SpanKind.SERVER, { 'url.path': '/p', 'url.query': 'id=1%27+and+sleep(5)--' });
  span('one-rule', SpanKind.SERVER, { 'url.path': '/p', 'url.query': 'id=1%27+UNION+SELECT+password+FROM+users--' });
  span('lfi', SpanKind.SERVER, { 'url.path': '/download', 'url.query': 'f=../../etc/passwd' });
  span('benign', SpanKind.SERVER, { 'url.path': '/p', 'url.query': 'q=summer+shoes' });
  span('client', SpanKind.CLIENT, { 'url.full': 'http://inventory/download?f=../../etc/passwd' });
  await provider.forceFlush();
  const spans = () => capture.traces.flatMap((d) => d.resourceSpans).flatMap((r) => r.scopeSpans).flatMap((s) => s.spans);
  await capture.waitFor(() => spans().length >= 5);
  const by = (n: string) => spans().find((s) => s.name === n)!.attributes;
  t.equal(by('sqli')['security.threat.type'], 'sql_injection', 'Vigil\'s own sqli detector is off here: two critical CRS rules found it');
  t.match(String(by('sqli')['security.threat.evidence']), /^CRS 940100 SQL injection \(Vigil detector\); 940110 Timing function call \(anomaly 10, PL1\)/);
  t.equal(by('one-rule')['security.threat.type'], undefined, 'one CRS rule alone, without Vigil\'s own finding, is not an alarm for SQLi/XSS');
  t.equal(by('sqli')['security.threat.detector'], 'crs');
  t.equal(by('lfi')['security.threat.type'], 'web_attack');
  t.match(String(by('lfi')['security.threat.evidence']), /^lfi: CRS 940300 Sensitive file access; 940320 Path traversal \(anomaly 10, PL1\)/);
  t.equal(by('benign')['security.threat.type'], undefined);
  t.equal(by('client')['security.threat.type'], undefined, 'client spans are not incoming requests');
});
