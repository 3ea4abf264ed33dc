/**
 * The CRS engine's literal prefilter and rule index (processors/security/crs/prefilter.ts): the
 * literals extracted from regular expressions, and that the engine with the prefilter finds
 * exactly what it finds without it (every rule run on every value), on Debian's CRS 3.3 at every
 * paranoia level, over the fixture attacks and benign values placed in every part of a request.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import RE2 from 're2';
import { CrsRuleSet, CrsRequest } from '../processors/security/crs/ruleset';
import { crsRequest } from '../processors/security/crs/request';
import { foldValue, LiteralPrefilter, requiredLiterals } from '../processors/security/crs/prefilter';
import { DEFAULT_CRS_PATH } from '../processors/security/config';

const FIXTURES = join(__dirname, 'fixtures/security');

function lines(file: string): string[] {
  return readFileSync(join(FIXTURES, file), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
}

t.test('required literals: runs of fixed text, alternations, and no requirement where any text can match', async (t) => {
  t.same(requiredLiterals('union\\s+select'), ['select'], 'the longer run of a concatenation');
  t.same(requiredLiterals('(?i)<script[^>]*>'), ['<script'], 'a repeated class ends the run (<script x> must pass)');
  t.same(requiredLiterals('a(?:b|c)d')?.sort(), ['abd', 'acd']);
  t.same(requiredLiterals('foo|bar\\d+')?.sort(), ['bar', 'foo']);
  t.same(requiredLiterals('ab?c')?.sort(), ['abc', 'ac'], 'an optional character');
  t.same(requiredLiterals('[Jj]ava'), ['java'], 'case folded');
  t.same(requiredLiterals('\\x3cscript'), ['<script'], 'hex escapes');
  t.same(requiredLiterals('\\Qa.b\\E'), ['a.b']);
  t.equal(requiredLiterals('^\\d+$'), null, 'digits only: no literal');
  t.equal(requiredLiterals('a*'), null, 'may match the empty string');
  t.equal(requiredLiterals('x|.*'), null, 'one branch without a requirement');
  t.same(requiredLiterals('caf\u00e9'), ['caf'], 'a non-ASCII character counts as any character: it ends the run');
  t.equal(requiredLiterals('a\\Zb'), null, 'syntax it does not know: run always');
});

t.test('the Aho-Corasick scan finds every member with a literal in the value', async (t) => {
  const pf = new LiteralPrefilter([['select', 'union'], null, ['<script'], ['elect']]);
  t.same(pf.candidates(foldValue('1 UNION SELECT 2')), [0, 1, 3]);
  t.same(pf.candidates(foldValue('hello')), [1], 'only the member without literals');
  t.same(pf.candidates(foldValue('\u017fcript <\u017fcript')), [1, 2], 'long s folds to s, as RE2 folds it');
  t.equal(pf.unfiltered, 1);
});

t.test('every CRS 3.3 pattern that matches a fixture value has one of its literals in it', async (t) => {
  const { ruleset } = CrsRuleSet.load([DEFAULT_CRS_PATH]);
  const patterns = (ruleset as unknown as { patterns: Array<{ re: RE2; raw: string }> }).patterns;
  const values = ['sqli-attacks.txt', 'xss-attacks.txt', 'sqli-benign.txt', 'xss-benign.txt', 'benign-html.txt', 'benign-text.txt', 'benign-queries.txt', 'benign-json.txt', 'benign-cookies.txt'].flatMap(lines);
  values.push('GET /a HTTP/1.1', '', '0', 'application/x-www-form-urlencoded', 'ſelect', 'bytes=0-,5-0');
  let matched = 0;
  let violations = 0;
  for (const p of patterns) {
    const lits = requiredLiterals(p.raw);
    for (const v of [...values, ...values.map((x) => x.toLowerCase())]) {
      if (!p.re.test(v)) continue;
      matched++;
      if (lits && !lits.some((l) => foldValue(v).includes(l))) {
        violations++;
        t.fail(`${p.raw.slice(0, 80)} matches ${JSON.stringify(v.slice(0, 60))} without any of ${JSON.stringify(lits.slice(0, 5))}`);
      }
    }
  }
  t.ok(matched > 100, `${matched} pattern matches checked`);
  t.equal(violations, 0);
});

t.test('with the prefilter, CRS 3.3 finds exactly what running every rule finds (PL1 and PL4)', async (t) => {
  const on = CrsRuleSet.load([DEFAULT_CRS_PATH]).ruleset;
  const off = CrsRuleSet.load([DEFAULT_CRS_PATH], { prefilter: false }).ruleset;
  const values = ['sqli-attacks.txt', 'xss-attacks.txt', 'sqli-benign.txt', 'xss-benign.txt', 'benign-html.txt', 'benign-text.txt', 'benign-queries.txt'].flatMap(lines);
  const requests: CrsRequest[] = [];
  values.forEach((v, i) => {
    const enc = encodeURIComponent(v);
    // Each value in a different part of the request, rotating: query, path, header, cookie, form body, JSON body.
    const attrs: Record<string, string> = { 'http.request.method': i % 2 ? 'POST' : 'GET', 'server.address': 'shop.example', 'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0' };
    switch (i % 6) {
      case 0: attrs['url.full'] = `https://shop.example/search?q=${enc}&page=2`; break;
      case 1: attrs['url.path'] = `/files/${enc}`; break;
      case 2: attrs['url.path'] = '/'; attrs['http.request.header.referer'] = v; break;
      case 3: attrs['url.path'] = '/'; attrs['http.request.header.cookie'] = `sid=abc123; pref=${enc}`; break;
      case 4: attrs['url.path'] = '/login'; attrs['http.request.body'] = `user=ann&comment=${enc}`; break;
      default: attrs['url.path'] = '/api'; attrs['http.request.body'] = JSON.stringify({ note: v, n: 1 }); break;
    }
    requests.push(crsRequest(attrs));
  });
  for (const line of lines('benign-json.txt')) requests.push(crsRequest({ 'http.request.method': 'POST', 'url.path': '/api/items', 'http.request.body': line }));
  for (const line of lines('benign-cookies.txt')) requests.push(crsRequest({ 'http.request.method': 'GET', 'url.path': '/account', 'http.request.header.cookie': line }));
  requests.push(crsRequest({ 'http.request.method': 'PUT', 'url.full': 'http://shop.example/a//b/./../c?x=1', 'http.request.header.content-length': 'abc', 'network.protocol.version': '0.9' }));
  let differing = 0;
  let found = 0;
  for (const pl of [1, 4]) {
    for (const req of requests) {
      const a = on.evaluate(req, pl).matches.map((m) => `${m.id} ${m.variable}`);
      const b = off.evaluate(req, pl).matches.map((m) => `${m.id} ${m.variable}`);
      found += b.length;
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        differing++;
        if (differing <= 5) t.same(a, b, `PL${pl} ${req.uri.slice(0, 60)}`);
      }
    }
  }
  t.ok(found > 200, `${found} rule matches over ${requests.length} requests x 2 levels`);
  t.equal(differing, 0, 'no request differs');
});
