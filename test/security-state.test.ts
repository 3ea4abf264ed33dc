import t from 'tap';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BruteForceDetector } from '../processors/security/state/bruteforce';
import { RateLimiter } from '../processors/security/state/ratelimit';
import { ProfileStore } from '../processors/security/state/profile';
import { ThreatIntel, isPrivateAddress, parseIPv6 } from '../processors/security/state/threatintel';

const MIN = 60_000;
const cfg = { maxFailures: 5, windowMs: 10 * MIN, blockMs: 10 * MIN, stuffingUsers: 5, maxTracked: 1000 };

t.test('brute force: 5 failures in 10 minutes block the IP for 10 minutes', async (t) => {
  const bf = new BruteForceDetector(cfg);
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < 4; i++) t.same(bf.failure('alice', '203.0.113.9', t0 + i * 1000, t0 + i * 1000), [], `failure ${i + 1} is below the threshold`);
  const threats = bf.failure('alice', '203.0.113.9', t0 + 5000, t0 + 5000);
  t.equal(threats.length, 2, 'user and IP thresholds crossed together');
  t.ok(threats.some((x) => x.type === 'brute_force' && x.key === 'ip:203.0.113.9' && x.blockedUntilMs === t0 + 5000 + 10 * MIN));
  t.ok(bf.isBlocked('203.0.113.9', t0 + 6000));
  t.same(bf.blockList(t0 + 6000).map((b) => b.ip), ['203.0.113.9']);
  t.notOk(bf.isBlocked('203.0.113.9', t0 + 5000 + 10 * MIN + 1), 'the block expires');
  t.same(bf.blockList(t0 + 11 * MIN), []);
});

t.test('brute force: failures spread beyond the window do not add up', async (t) => {
  const bf = new BruteForceDetector(cfg);
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < 10; i++) t.same(bf.failure('bob', '198.51.100.1', t0 + i * 3 * MIN, t0 + i * 3 * MIN), []);
});

t.test('credential stuffing: many users failing from one IP', async (t) => {
  const bf = new BruteForceDetector(cfg);
  const t0 = 1_700_000_000_000;
  let threats: ReturnType<BruteForceDetector['failure']> = [];
  for (let i = 0; i < 5; i++) threats = bf.failure(`user${i}`, '192.0.2.66', t0 + i, t0 + i);
  t.equal(threats.length, 1);
  t.equal(threats[0].type, 'credential_stuffing');
  t.equal(threats[0].distinctUsers, 5);
});

t.test('brute force state survives a snapshot/restore and stays bounded', async (t) => {
  const bf = new BruteForceDetector({ ...cfg, maxTracked: 100 });
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < 5000; i++) bf.failure(`u${i}`, `10.1.${i >> 8}.${i & 255}`, t0, t0);
  const snap = bf.snapshot(t0);
  t.ok(snap.users.length <= 100 && snap.ips.length <= 100, 'LRU caps hold under a flood of distinct keys');
  const one = new BruteForceDetector(cfg);
  for (let i = 0; i < 5; i++) one.failure('carol', '203.0.113.50', t0 + i, t0 + i);
  const copy = new BruteForceDetector(cfg);
  copy.restore(JSON.parse(JSON.stringify(one.snapshot(t0 + 10))), t0 + 10);
  t.ok(copy.isBlocked('203.0.113.50', t0 + 20));
});

t.test('rate limit: token bucket per user, one threat per burst', async (t) => {
  const rl = new RateLimiter([{ per: 'user', rate: 1, burst: 5 }], 100);
  const t0 = 1_700_000_000_000;
  const threats = [];
  for (let i = 0; i < 8; i++) threats.push(...rl.hit({ user: 'dave' }, t0 + i));
  t.equal(threats.length, 1, 'the 6th request in a burst of 8 crosses the limit once');
  t.same(rl.hit({ user: 'erin' }, t0 + 9), [], 'other users have their own bucket');
  t.same(rl.hit({ user: 'dave' }, t0 + 60_000), [], 'the bucket refills');
});

t.test('behaviour profile: a new network at an unusual hour is risky, the usual pattern is not', async (t) => {
  const ps = new ProfileStore({ minObservations: 20, maxUsers: 10, maxItems: 16 });
  const day = Date.UTC(2024, 0, 1);
  for (let d = 0; d < 30; d++) {
    const r = ps.observe('frank', { timeMs: day + d * 86_400_000 + 10 * 3_600_000, endpoint: '/api/orders', ip: '198.51.100.20' });
    if (d > 20) t.equal(r.score, 0, 'usual requests score 0');
  }
  const odd = ps.observe('frank', { timeMs: day + 31 * 86_400_000 + 3 * 3_600_000, endpoint: '/admin/export', ip: '203.0.113.77' });
  t.ok(odd.score >= 0.6, `odd request scored ${odd.score}`);
  t.match(odd.reasons.join('; '), /unusual hour.*new endpoint.*new network/);
  for (let i = 0; i < 50; i++) ps.observe(`user${i}`, { timeMs: day });
  t.ok(ps.size <= 10, 'number of profiles is capped');
});

t.test('threat intel: netset, DROP and plain lists, IPv4 and IPv6, private never flagged, reload on change', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-intel-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const feed = join(dir, 'feed.netset');
  copyFileSync(join(__dirname, 'fixtures/security/feed.netset'), feed);
  const drop = join(dir, 'drop.txt');
  copyFileSync(join(__dirname, 'fixtures/security/drop.txt'), drop);
  const ti = new ThreatIntel([feed, drop]);
  ti.load();
  t.equal(ti.lookup('203.0.113.200')?.cidr, '203.0.113.0/24');
  t.equal(ti.lookup('198.51.100.7')?.feed, 'feed.netset');
  t.notOk(ti.lookup('198.51.100.8'));
  t.equal(ti.lookup('192.0.2.100')?.note, 'SBL000001');
  t.notOk(ti.lookup('192.0.2.200'), 'outside the /25');
  t.equal(ti.lookup('2001:db8:bad:1::5')?.cidr, '2001:db8:bad::/48');
  t.equal(ti.lookup('::ffff:203.0.113.1')?.cidr, '203.0.113.0/24', 'IPv4-mapped IPv6');
  t.notOk(ti.lookup('10.1.2.3'), 'private range listed in the feed is not flagged by default');
  const withPrivate = new ThreatIntel([feed], true);
  withPrivate.load();
  t.ok(withPrivate.lookup('10.1.2.3'), '... unless configured');
  t.ok(isPrivateAddress('127.0.0.1') && isPrivateAddress('::1') && isPrivateAddress('fd00::1') && !isPrivateAddress('8.8.8.8'));
  t.equal(parseIPv6('::1'), 1n);
  t.equal(parseIPv6('not:an:ip'), undefined);

  ti.watch(20);
  t.teardown(() => ti.stop());
  writeFileSync(feed, '# replaced\n100.24.0.0/16\n');
  const end = Date.now() + 3000;
  while (ti.lookup('100.24.1.1') === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  t.ok(ti.lookup('100.24.1.1'), 'the changed feed is reloaded');
  t.notOk(ti.lookup('203.0.113.200'), 'entries removed from the feed are gone');
});
