/**
 * Brute-force timing on the receive clock, aggregated blocked_source events, and a health check
 * that is not green before every component (and so every API route) has started.
 */
import t from 'tap';
import { BruteForceDetector } from '../processors/security/state/bruteforce';
import type { ProcessorFactory } from '../src/component';
import { startTest } from './helpers/collector';

const MIN = 60_000;
const cfg = { maxFailures: 5, windowMs: 10 * MIN, blockMs: 10 * MIN, stuffingUsers: 5, maxTracked: 1000 };
const now = 1_700_000_000_000;

t.test('a late batch counts as seen now: one block, no flood of events', async (t) => {
  const bf = new BruteForceDetector(cfg);
  const threats = [];
  for (let i = 0; i < 10; i++) threats.push(...bf.failure('alice', '203.0.113.9', now - 20 * MIN + i * 1000, now + i));
  const ipEvents = threats.filter((x) => x.key.startsWith('ip:'));
  t.equal(ipEvents.length, 1, 'the IP crosses the threshold once');
  t.equal(ipEvents[0].blockedUntilMs, now + 4 + 10 * MIN, 'the ban runs from the receive time');
  t.equal(threats.filter((x) => x.key.startsWith('user:')).length, 2, 'the user window fires at 5 and 10 failures');
  t.ok(bf.isBlocked('203.0.113.9', now + 9 * MIN));
});

t.test('future timestamps cannot stretch a ban', async (t) => {
  const bf = new BruteForceDetector(cfg);
  let until = 0;
  for (let i = 0; i < 5; i++) for (const x of bf.failure(undefined, '198.51.100.4', now + 60 * MIN, now + i)) until = x.blockedUntilMs ?? until;
  t.equal(until, now + 4 + 10 * MIN);
  t.notOk(bf.isBlocked('198.51.100.4', now + 4 + 10 * MIN + 1), 'expired after block_duration of receive time');
});

t.test('slightly late failures keep their own time within the clock skew', async (t) => {
  const bf = new BruteForceDetector({ ...cfg, windowMs: 60_000, clockSkewMs: 30_000 });
  // Five failures 20 s apart, received together 10 s after the last: all inside the 60 s window.
  let threats: ReturnType<BruteForceDetector['failure']> = [];
  for (let i = 0; i < 5; i++) threats = bf.failure(undefined, '192.0.2.7', now + i * 5_000, now + 30_000);
  t.equal(threats.length, 1);
  t.equal(bf.countedAt(now + 25_000, now + 30_000), now + 25_000, 'within the skew: its own time');
  t.equal(bf.countedAt(now - 1, now + 30_000), now + 30_000, 'beyond the skew: the receive time');
});

t.test('requests from a blocked address are reported once per interval, with a count', async (t) => {
  const bf = new BruteForceDetector({ ...cfg, blockedReportMs: MIN });
  bf.block('203.0.113.66', 'brute_force', now);
  t.equal(bf.blockedRequest('198.51.100.1', now), undefined, 'not blocked');
  const first = bf.blockedRequest('203.0.113.66', now + 1);
  t.equal(first?.first, true);
  let reports = 0;
  for (let i = 2; i <= 100; i++) if (bf.blockedRequest('203.0.113.66', now + i * 100)) reports++;
  t.equal(reports, 0, '99 more requests within the minute: no further report');
  const summary = bf.blockedRequest('203.0.113.66', now + 1 + MIN);
  t.equal(summary?.attempts, 100, 'the next report carries the suppressed requests');
  t.equal(summary?.entry.attempts, 101);
});

t.test('health is not green while a component is still starting', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let healthAddress!: (a: string) => void;
  const address = new Promise<string>((r) => (healthAddress = r));
  const slow: ProcessorFactory = {
    kind: 'processor', type: 'slowstart', description: 'test processor whose start waits for a gate', signals: ['traces'], mutatesData: false,
    configSchema: { type: 'object', properties: {} },
    create: (_s, _sig, next) => ({
      async start(host) {
        healthAddress(host.getExtension<{ address: string }>('health_check')!.address);
        await gate;
      },
      consume: (d) => next.consume(d),
    }),
  };
  const starting = startTest(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  slowstart:
exporters:
  nop:
extensions:
  health_check:
    endpoint: 127.0.0.1:0
service:
  extensions: [health_check]
  telemetry:
    metrics:
      address: null
  pipelines:
    traces:
      receivers: [otlp]
      processors: [slowstart]
      exporters: [nop]
`, [slow]);
  const base = `http://${await address}/`;
  const during = await fetch(base);
  t.equal(during.status, 503, 'a component still starting (the receiver not started yet either)');
  const body = (await during.json()) as { components: Array<{ id: string; status: string }> };
  t.ok(body.components.some((c) => c.id === 'otlp' && c.status === 'starting'), 'components not yet started are listed as starting');
  release();
  const vigil = await starting;
  t.teardown(() => vigil.shutdown());
  t.equal((await fetch(base)).status, 200, 'green once everything has started');
});
