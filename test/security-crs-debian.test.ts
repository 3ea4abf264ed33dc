/** Debian's OWASP CRS 3.3 package (.ci/run installs modsecurity-crs) through the rule engine. */
import t from 'tap';
import { CrsRuleSet, CrsRequest } from '../processors/security/crs/ruleset';
import { DEFAULT_CRS_PATH } from '../processors/security/config';

function get(name: string, value: string): CrsRequest {
  const q = `${name}=${encodeURIComponent(value)}`;
  return { method: 'GET', uri: `/s?${q}`, path: '/s', query: q, protocol: 'HTTP/1.1', args: [{ name, value, from: 'get' }], headers: [['host', 'shop.example'], ['user-agent', 'Mozilla/5.0']], cookies: [], body: '' };
}

t.test('Debian CRS 3.3 loads; the issue examples score past the threshold at PL1', async (t) => {
  const { ruleset: rs, result } = CrsRuleSet.load([DEFAULT_CRS_PATH]);
  t.ok(result.rules > 150, `${result.rules} rules run`);
  t.ok(result.unsupported.every((u) => /^\d+ \(REQUEST-9\d\d/.test(u)), 'each unsupported rule names its id and file');
  t.ok(rs.evaluate(get('id', "1' UNION SELECT password FROM users--"), 1).score >= 5);
  t.ok(rs.evaluate(get('q', '<script>alert(1)</script>'), 1).score >= 5);
  t.ok(rs.evaluate(get('file', '../../../../etc/passwd'), 1).score >= 5);
  t.equal(rs.evaluate(get('q', 'summer shoes size 10'), 1).score, 0, 'a plain search scores 0');
});

