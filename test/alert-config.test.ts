import t from 'tap';
import { join } from 'node:path';
import { fingerprint, fingerprintValue } from '../src/alerting/labels';
import { matches, parseMatcher, parseMatchers } from '../src/alerting/matchers';
import { compileAlertingConfig } from '../src/alerting/config';
import { groupKey, groupLabels, matchRoutes } from '../src/alerting/route';
import { validateRules } from '../src/alerting/rules';
import { Template } from '../src/alerting/template';
import {
  ATTR_ESCALATION_STEP, NOTIFICATION_EVENT, buildPayload, parseNotification, receiverSelected, toNotificationRecord,
} from '../src/alerting/notification';
import { alertsConnectorFactory } from '../connectors/alerts';

const FIX = join(__dirname, 'fixtures', 'alerting');

t.test('fingerprints are Prometheus label-set fingerprints', async (t) => {
  // Vectors from Prometheus's common/model signature tests.
  t.equal(fingerprintValue({}), 14695981039346656037n);
  t.equal(fingerprintValue({ name: 'garland, briggs', fear: 'love is not enough' }), 5799056148416392346n);
  t.equal(fingerprint({ name: 'garland, briggs', fear: 'love is not enough' }), (5799056148416392346n).toString(16).padStart(16, '0'));
  t.equal(fingerprint({ b: '2', a: '1' }), fingerprint({ a: '1', b: '2' }), 'independent of key order');
  t.not(fingerprint({ a: '1', b: '2' }), fingerprint({ a: '12' }), 'separators keep label boundaries');
  t.match(fingerprint({ alertname: 'X' }), /^[0-9a-f]{16}$/);
});

t.test('matchers: Alertmanager syntax, anchored regexes, absent = empty', async (t) => {
  t.ok(matches(parseMatcher('severity="critical"'), { severity: 'critical' }));
  t.ok(matches(parseMatcher('severity=critical'), { severity: 'critical' }), 'bare values');
  t.notOk(matches(parseMatcher('severity=~"crit"'), { severity: 'critical' }), 'regex is anchored');
  t.ok(matches(parseMatcher('severity=~"crit.*"'), { severity: 'critical' }));
  t.ok(matches(parseMatcher('severity=~"warning|critical"'), { severity: 'critical' }));
  t.ok(matches(parseMatcher('team!~".+"'), {}), 'absent label matches as empty');
  t.ok(matches(parseMatcher('team=""'), {}));
  t.ok(matches(parseMatcher('team!="a"'), { team: 'b' }));
  t.notOk(matches(parseMatcher('team!="a"'), { team: 'a' }));
  t.ok(matches(parseMatcher('service.name="api"'), { 'service.name': 'api' }), 'dotted (UTF-8) label names');
  t.ok(matches(parseMatcher('msg="a \\"quoted\\" value"'), { msg: 'a "quoted" value' }), 'escapes in quoted values');
  t.same(parseMatchers(['{a="1", b=~"x,y|z"}']).map((m) => [m.name, m.type, m.value]), [['a', '=', '1'], ['b', '=~', 'x,y|z']], 'brace lists, commas inside quotes');
  t.throws(() => parseMatcher('severity'), /expected name="value"/);
  t.throws(() => parseMatcher('a=~"(a+)+"'), /backtracking/);
  t.throws(() => parseMatcher('a=~"(a|aa)*b"'), /backtracking/);
  t.throws(() => parseMatcher('a=~"(x)\\1"'), /backreferences/);
  t.throws(() => parseMatcher('a=~"["'), /invalid regex/);
  t.doesNotThrow(() => parseMatcher('a=~"(foo|bar)-[0-9]+"'), 'plain alternation and repetition are fine');
  t.doesNotThrow(() => parseMatcher('a=~".*foo.*"'), 'two .* are fine');
  t.throws(() => parseMatcher('a=~".*a.*b.*"'), /more than 2 unbounded/);
});

t.test('route tree: first match, continue, group_by ..., inheritance, group keys', async (t) => {
  const { config, issues } = compileAlertingConfig({
    route: {
      receiver: 'default', group_by: ['alertname'],
      routes: [
        { matchers: ['team="db"'], receiver: 'db', continue: true, group_by: ['...'] },
        { matchers: ['severity=~"critical|page"'], receiver: 'pager', group_wait: '5s', routes: [{ matchers: ['env="dev"'], receiver: 'dev-null' }] },
        { matchers: ['severity="critical"'], receiver: 'never' },
      ],
    },
  });
  t.same(issues, []);
  const recv = (labels: Record<string, string>) => matchRoutes(config.route, labels).map((r) => r.receiver);
  t.same(recv({ alertname: 'A' }), ['default'], 'no child matches: the root');
  t.same(recv({ alertname: 'A', severity: 'critical' }), ['pager'], 'first matching child only');
  t.same(recv({ alertname: 'A', severity: 'critical', team: 'db' }), ['db', 'pager'], 'continue goes on to the next sibling');
  t.same(recv({ alertname: 'A', severity: 'critical', env: 'dev' }), ['dev-null'], 'deepest match');
  const [pager] = matchRoutes(config.route, { alertname: 'A', severity: 'page' });
  t.equal(pager.groupWaitMs, 5000);
  t.equal(pager.groupIntervalMs, 300_000, 'group_interval default inherited (5m)');
  t.equal(pager.repeatIntervalMs, 4 * 3600_000, 'repeat_interval default (4h)');
  t.equal(config.route.groupWaitMs, 30_000, 'group_wait default (30s)');
  t.same(pager.groupBy, ['alertname'], 'group_by inherited');
  t.equal(groupKey(pager, groupLabels(pager, { alertname: 'A', severity: 'page', x: '1' })), '{}/{severity=~"critical|page"}:{alertname="A"}');
  const [db] = matchRoutes(config.route, { alertname: 'A', team: 'db', x: '1' });
  t.same(groupLabels(db, { alertname: 'A', team: 'db', x: '1' }), { alertname: 'A', team: 'db', x: '1' }, '... groups by every label');
});

t.test('config validation names the path and what was expected', async (t) => {
  const { issues } = compileAlertingConfig({
    route: { receiver: 'nope', group_wait: 'later', routes: [{ matchers: ['x'], escalation: 'ghost' }] },
    receivers: [{ name: 'team' }],
    inhibit_rules: [{ target_matchers: ['a="b"'] }],
    escalation_policies: [{ name: 'p', steps: [{ wait: '0s', receivers: [] }], repeat: 2 }],
  });
  const msgs = issues.map((i) => `${i.path}: ${i.message}`);
  const has = (re: RegExp) => t.ok(msgs.some((m) => re.test(m)), `${re} in\n${msgs.join('\n')}`);
  has(/^route\.group_wait: invalid duration "later"/);
  has(/^route\.routes\[0\]\.matchers\[0\]: invalid matcher "x"/);
  has(/receiver: undefined receiver "nope"/);
  has(/escalation: undefined escalation policy "ghost"/);
  has(/^inhibit_rules\[0\]\.source_matchers: required/);
  has(/^escalation_policies\[0\]\.steps\[0\]\.receivers: required/);
  has(/^escalation_policies\[0\]\.repeat: repeating the last step needs a wait/);
});

t.test('rule files: validateRules reports file, line, path and expectation', async (t) => {
  t.same(validateRules(['good-rules.yaml'], FIX), [], 'a valid file has no issues');
  const issues = validateRules([join(FIX, 'bad-rules.yaml')]);
  const find = (path: string) => issues.find((i) => i.path === path);
  t.equal(find('groups[0].rules[0].threshold')?.message, 'required: the number the value is compared with');
  t.match(find('groups[0].rules[0].function')?.message, /expected one of avg, max/);
  t.equal(find('groups[0].rules[0].function')?.line, 6, 'line of the offending key');
  t.match(find('groups[0].rules[1].for')?.message, /invalid duration "soon"/);
  t.match(find('groups[0].rules[1].matchers[0]')?.message, /backtracking/);
  t.match(find('groups[0].rules[2].annotations.summary')?.message, /unsupported template action/);
  t.match(find('groups[0].rules[2].unknown_key')?.message, /unknown key for a security rule/);
  t.ok(issues.every((i) => i.file === join(FIX, 'bad-rules.yaml')), 'each issue names its file');
  const missing = validateRules(['does-not-exist.yaml'], FIX);
  t.match(missing[0].message, /cannot read rule file: ENOENT/);
});

t.test('the connector factory validates inline rules and rule files', async (t) => {
  const ok = alertsConnectorFactory.validate!({ rule_files: [join(FIX, 'good-rules.yaml')], route: { receiver: 'x' } });
  t.same(ok, []);
  const bad = alertsConnectorFactory.validate!({ groups: [{ name: 'g', rules: [{ alert: 'A', metric: 'm', threshold: 1, op: '=>' }] }], rule_files: [join(FIX, 'bad-rules.yaml')] });
  t.ok(bad.some((p) => p.path.join('.') === 'groups.0.rules.0.op' && /expected one of/.test(p.message)), 'inline path as an array');
  t.ok(bad.some((p) => p.path[0] === 'rule_files' && p.message.includes('bad-rules.yaml:')), 'rule file problems carry file:line');
});

t.test('templates', async (t) => {
  const d = { value: 0.123456, labels: { 'service.name': 'api', job: 'x' }, externalURL: 'http://v' };
  t.equal(Template.compile('{{ $value }} {{ $labels.service.name }} {{ index $labels "job" }}').expand(d), '0.123456 api x');
  t.equal(Template.compile('{{ humanizePercentage $value }}').expand(d), '12.3456%');
  t.equal(Template.compile('{{ printf "%.2f" $value }}').expand(d), '0.12');
  t.equal(Template.compile('{{ humanize $value }}').expand({ ...d, value: 1234567 }), '1.2346M');
  t.equal(Template.compile('{{ $labels.missing }}|{{ $externalURL }}').expand(d), '|http://v');
  t.throws(() => Template.compile('{{ range . }}'), /unsupported template action/);
});

t.test('notification records: the contract exporters rely on', async (t) => {
  const payload = buildPayload({
    receiver: 'team', groupKey: '{}:{alertname="A"}', groupLabels: { alertname: 'A' }, externalURL: 'http://vigil',
    alerts: [
      { status: 'firing', labels: { alertname: 'A', i: '1', sev: 'x' }, annotations: { s: 'a' }, startsAt: '2025-01-01T00:00:00.000Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'aaaaaaaaaaaaaaaa' },
      { status: 'resolved', labels: { alertname: 'A', i: '2', sev: 'x' }, annotations: { s: 'b' }, startsAt: '2025-01-01T00:00:00.000Z', endsAt: '2025-01-01T00:01:00.000Z', generatorURL: '', fingerprint: 'bbbbbbbbbbbbbbbb' },
    ],
  });
  t.equal(payload.status, 'firing', 'firing when any alert fires');
  t.same(payload.commonLabels, { alertname: 'A', sev: 'x' });
  t.same(payload.commonAnnotations, {});
  const rec = toNotificationRecord({ receiver: 'team', groupKey: payload.groupKey, status: 'firing', escalationStep: 1, escalationPolicy: 'p', payload }, 1_700_000_000_000);
  t.equal(rec.eventName, NOTIFICATION_EVENT);
  t.equal(rec.attributes['alert.receiver'], 'team');
  t.equal(rec.attributes['alert.status'], 'firing');
  t.equal(rec.attributes[ATTR_ESCALATION_STEP], 1);
  const body = JSON.parse(rec.body as string);
  t.same(Object.keys(body), ['version', 'groupKey', 'truncatedAlerts', 'status', 'receiver', 'groupLabels', 'commonLabels', 'commonAnnotations', 'externalURL', 'alerts']);
  t.same(Object.keys(body.alerts[0]), ['status', 'labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL', 'fingerprint']);
  const back = parseNotification(rec);
  t.same(back?.payload, payload);
  t.equal(back?.escalationStep, 1);
  t.equal(parseNotification({ ...rec, eventName: 'other', attributes: {} }), undefined, 'not a notification');
  t.equal(parseNotification({ ...rec, body: 'not json' }), undefined, 'malformed body');
  t.ok(receiverSelected([], 'team'));
  t.ok(receiverSelected(undefined, 'team'));
  t.ok(receiverSelected(['team'], 'team'));
  t.notOk(receiverSelected(['ops'], 'team'));
});

t.test('rule_files globs expand in the file name', async (t) => {
  const { config, issues } = compileAlertingConfig({ rule_files: ['good-*.yaml'], route: { receiver: 'x' } }, FIX);
  t.same(issues, []);
  t.same(config.groups.map((g) => g.name), ['api', 'security']);
  t.same(compileAlertingConfig({ rule_files: ['nothing-*.yaml'] }, FIX).issues, [], 'a glob that matches nothing is not an error');
  t.match(compileAlertingConfig({ rule_files: ['missing.yaml'] }, FIX).issues[0].message, /cannot read rule file/);
});
