/**
 * github exporter against a local fake of the GitHub REST API: one issue per group (also after a
 * restart), comments on change/escalation/re-fire, close on resolve, reopen, labels, pacing, and
 * rate limits (403 secondary limit with Retry-After, exhausted primary limit).
 */
import t from 'tap';
import { githubExporterFactory } from '../exporters/github';
import { findMarker } from '../exporters/github/render';
import { Pacer } from '../exporters/github/pacer';
import { PermanentError, RetryableError } from '../src/errors';
import { FakeGitHub } from './fixtures/notify/fake-github';
import { CertFactory } from './helpers/certs';
import { AlertSpec, build, logsOf, notification, waitFor } from './fixtures/notify/helpers';

t.jobs = 4;

const cfg = (gh: FakeGitHub, extra: Record<string, unknown> = {}) => ({
  repository: 'acme/ops', token: 'test-token', base_url: gh.url, write_interval: '10ms', content_interval: '20ms', api_retries: 0,
  sending_queue: { enabled: false }, ...extra,
});

const disk = (instances: string[], status: 'firing' | 'resolved' = 'firing'): AlertSpec[] =>
  instances.map((i) => ({ labels: { alertname: 'DiskFull', severity: 'critical', instance: i }, annotations: { summary: 'disk almost full' }, status }));

t.test('issue lifecycle: create once, quiet repeat, comments on change and escalation, close, reopen', async (t) => {
  const gh = await new FakeGitHub().start();
  t.teardown(() => gh.close());
  const { ex } = build(githubExporterFactory, cfg(gh));
  const send = (specs: AlertSpec[], o: Parameters<typeof notification>[1] = {}) => ex.logs!.consume(logsOf(notification(specs, o)));

  await send(disk(['db-1']));
  t.equal(gh.issues.length, 1, 'first firing opens an issue');
  const issue = gh.issues[0];
  t.equal(issue.title, 'alertname=DiskFull: disk almost full');
  t.same(issue.labels, ['vigil-alert', 'severity:critical']);
  t.ok(findMarker(issue.body), 'body has the group marker');
  t.match(issue.body, /`instance=db-1`/);

  await send(disk(['db-1']));
  t.equal(issue.comments.length, 0, 'an unchanged repeat does not comment');
  await send(disk(['db-1', 'db-2']));
  t.equal(issue.comments.length, 1, 'a new alert in the group comments');
  t.match(issue.comments[0], /changed: 2 alert\(s\) firing/);
  await send(disk(['db-1', 'db-2']), { escalationStep: 1, escalationPolicy: 'dba' });
  t.match(issue.comments[1], /Escalated \(policy `dba`, step 2\)/);
  await send(disk(['db-1', 'db-2'], 'resolved'));
  t.equal(issue.state, 'closed');
  t.equal(issue.state_reason, 'completed');
  t.match(issue.comments[2], /resolved\. Closing/);
  await send(disk(['db-1', 'db-2'], 'resolved'));
  t.equal(issue.comments.length, 3, 'a second resolve of a closed issue does nothing');
  await send(disk(['db-3']));
  t.equal(gh.issues.length, 1, 're-fire reuses the issue');
  t.equal(issue.state, 'open', 'and reopens it');
  t.match(issue.comments[3], /fired again/);

  // Another group gets its own issue; a restarted exporter finds existing ones by their marker.
  await send([{ labels: { alertname: 'CPU', severity: 'warning' } }]);
  t.equal(gh.issues.length, 2);
  t.same(gh.issues[1].labels, ['vigil-alert', 'severity:warning']);
  await ex.shutdown!();
  const restarted = build(githubExporterFactory, cfg(gh)).ex;
  await restarted.logs!.consume(logsOf(notification(disk(['db-3']))));
  await restarted.logs!.consume(logsOf(notification([{ labels: { alertname: 'CPU', severity: 'warning' }, status: 'resolved' }])));
  t.equal(gh.issues.length, 2, 'no second issue after a restart');
  t.equal(gh.issues[1].state, 'closed');
  t.ok(gh.requests.filter((r) => r.method === 'GET').every((r) => /labels=vigil-alert/.test(r.url) && /state=all/.test(r.url)), 'lookups list our label, all states');
  await restarted.shutdown!();
});

t.test('receiver and escalation receiver served by one exporter share the group\'s issue', async (t) => {
  const gh = await new FakeGitHub().start();
  t.teardown(() => gh.close());
  const { ex } = build(githubExporterFactory, cfg(gh));
  const send = (n: ReturnType<typeof notification>) => ex.logs!.consume(logsOf(n));
  await send(notification(disk(['db-1', 'db-2']), { receiver: 'team' }));
  await send(notification(disk(['db-1']), { receiver: 'lead', escalationStep: 0, escalationPolicy: 'dba' }));
  t.equal(gh.issues.length, 1, 'the escalation comments on the group\'s issue');
  t.match(gh.issues[0].comments[0], /Escalated \(policy `dba`, step 1\)/);
  // The escalation receiver is told db-1 resolved while db-2 still fires: the issue stays open.
  // The router tells escalation receivers about resolutions with the policy and no step.
  await send({ ...notification(disk(['db-1'], 'resolved'), { receiver: 'lead' }), escalationPolicy: 'dba' });
  t.equal(gh.issues[0].state, 'open', 'a partial resolution told to the escalation receiver does not close the issue');
  await send(notification(disk(['db-2']), { receiver: 'team' }));
  await send(notification(disk(['db-2'], 'resolved'), { receiver: 'team' }));
  t.equal(gh.issues[0].state, 'closed', 'the group resolving closes it');
  t.equal(gh.issues.length, 1);
  await ex.shutdown!();
});

t.test('markdown from alert labels cannot mention people or inject links', async (t) => {
  const gh = await new FakeGitHub().start();
  t.teardown(() => gh.close());
  const { ex } = build(githubExporterFactory, cfg(gh));
  await ex.logs!.consume(logsOf(notification([{ labels: { alertname: 'X' }, annotations: { summary: '@admin see [here](http://evil) <img src=x>' } }])));
  const body = gh.issues[0].body;
  t.notMatch(body, /(^|[^\u200b])@admin/);
  t.notMatch(body, /\]\(http:\/\/evil\)/);
  t.notMatch(body, /(^|[^\\])<img/, 'HTML is escaped');
  await ex.shutdown!();
});

t.test('403 secondary rate limit with Retry-After is waited out, one issue', async (t) => {
  const gh = await new FakeGitHub().start();
  t.teardown(() => gh.close());
  let hit = false;
  gh.inject.push((r) => {
    if (r.method === 'POST' && !hit) {
      hit = true;
      return { status: 403, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' } };
    }
    return undefined;
  });
  const { ex } = build(githubExporterFactory, cfg(gh));
  // Measured around the call: a loaded machine can only make it longer than the wait it must contain.
  const t0 = Date.now();
  await ex.logs!.consume(logsOf(notification(disk(['db-1']))));
  const elapsed = Date.now() - t0;
  const posts = gh.writes();
  t.equal(posts.length, 2, 'refused once, then accepted');
  t.ok(elapsed >= 990, `the retry waited for Retry-After: 1 (${elapsed} ms)`);
  t.equal(gh.issues.length, 1);
  await ex.shutdown!();
});

t.test('primary rate limit exhausted beyond max_rate_limit_wait: retryable with the reset time', async (t) => {
  const gh = await new FakeGitHub().start();
  t.teardown(() => gh.close());
  const reset = Math.floor(Date.now() / 1000) + 120;
  gh.inject.push(() => ({ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }, body: { message: 'API rate limit exceeded for user ID 1.' } }));
  const { ex } = build(githubExporterFactory, cfg(gh, { max_rate_limit_wait: '5s', retry_on_failure: { enabled: false } }));
  const err = await ex.logs!.consume(logsOf(notification(disk(['db-1'])))).then(() => undefined, (e) => e);
  t.type(err, RetryableError);
  t.ok(err.throttled, 'marked as throttling');
  t.ok(err.retryAfterMs > 100_000 && err.retryAfterMs <= 122_000, `retry after the reset (${err.retryAfterMs} ms)`);
  t.equal(gh.requests.length, 1, 'no request hammering while limited');
  await ex.shutdown!();
});

t.test('the pacer spaces its callers by its interval, in order', async (t) => {
  // Spacing is measured where callers are released (the pacer's own clock), so load can only widen it.
  const pacer = new Pacer(50);
  const released: number[] = [];
  await Promise.all([0, 1, 2].map(() => pacer.wait().then(() => { released.push(Date.now()); })));
  t.equal(released.length, 3);
  t.ok(released[1] - released[0] >= 49 && released[2] - released[1] >= 49, `spaced: ${released[1] - released[0]} ms, ${released[2] - released[1]} ms`);
});

t.test('content creation waits its turn: with content_interval 1h, one issue and the rest held back', async (t) => {
  const gh = await new FakeGitHub().start();
  t.teardown(() => gh.close());
  const { ex } = build(githubExporterFactory, cfg(gh, { content_interval: '1h', timeout: '1s', sending_queue: { num_consumers: 3 }, retry_on_failure: { enabled: false } }));
  await ex.logs!.consume(logsOf(...['A', 'B', 'C'].map((a) => notification([{ labels: { alertname: a } }]))));
  await waitFor(() => gh.issues.length === 1, 5000, 'first issue');
  await new Promise((r) => setTimeout(r, 300)); // unpaced, the others would be created within milliseconds
  t.equal(gh.issues.length, 1, 'the other groups wait for the interval');
  await ex.shutdown!();
});

t.test('a failed close is retried without a second comment; 422 is permanent', async (t) => {
  const gh = await new FakeGitHub().start();
  t.teardown(() => gh.close());
  const { ex } = build(githubExporterFactory, cfg(gh, { sending_queue: { enabled: true }, retry_on_failure: { initial_interval: '100ms', randomization_factor: 0 } }));
  await ex.logs!.consume(logsOf(notification(disk(['db-1']))));
  await waitFor(() => gh.issues.length === 1, 3000, 'issue');
  let failed = false;
  gh.inject.push((r) => (r.method === 'PATCH' && !failed ? ((failed = true), { status: 502, body: { message: 'Bad Gateway' } }) : undefined));
  await ex.logs!.consume(logsOf(notification(disk(['db-1'], 'resolved'))));
  await waitFor(() => gh.issues[0].state === 'closed', 3000, 'closed after retry');
  t.equal(gh.issues[0].comments.length, 1, 'one resolve comment');
  await ex.shutdown!();

  const strict = build(githubExporterFactory, cfg(gh, { title: '' })).ex;
  gh.inject.push((r) => (r.method === 'POST' ? { status: 422, body: { message: 'Validation Failed' } } : undefined));
  await t.rejects(strict.logs!.consume(logsOf(notification([{ labels: { alertname: 'New' } }]))), PermanentError);
  await strict.shutdown!();
});

t.test('GitHub Enterprise behind a private CA: the tls block trusts it; without it the send fails naming the certificate problem', async (t) => {
  const certs = new CertFactory();
  t.teardown(() => certs.cleanup());
  const ca = certs.ca('ghes-ca');
  const gh = await new FakeGitHub('acme', 'ops', certs.read(certs.issue(ca, 'ghes'))).start();
  t.teardown(() => gh.close());
  const trusted = build(githubExporterFactory, cfg(gh, { retry_on_failure: { enabled: false }, tls: { ca_file: ca.cert } })).ex;
  t.teardown(() => trusted.shutdown!());
  await trusted.logs!.consume(logsOf(notification(disk(['db-9']))));
  t.equal(gh.issues.length, 1, 'the issue is opened over https');
  const untrusted = build(githubExporterFactory, cfg(gh, { retry_on_failure: { enabled: false } })).ex;
  t.teardown(() => untrusted.shutdown!());
  await t.rejects(untrusted.logs!.consume(logsOf(notification(disk(['db-8'])))), /certificate/, 'system CAs only: refused, and the error says why');
  t.equal(gh.issues.length, 1, 'nothing opened by the refused one');
});
