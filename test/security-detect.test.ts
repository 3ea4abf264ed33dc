import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectValue, SQLI_THRESHOLD, XSS_THRESHOLD } from '../processors/security/detect/injection';
import { scoreSqli } from '../processors/security/detect/sqli';
import { scoreXss } from '../processors/security/detect/xss';
import { scoreStatement } from '../processors/security/detect/statement';
import { htmlDecode, percentDecode } from '../processors/security/detect/decode';

const fixture = (name: string): string[] =>
  readFileSync(join(__dirname, 'fixtures/security', name), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));

t.test('decoding', async (t) => {
  t.equal(percentDecode('%27%20or%201%3D1', false), "' or 1=1");
  t.equal(percentDecode('a+b%2', true), 'a b%2', 'malformed escapes stay literal');
  t.equal(percentDecode('%u003cscript', false), '<script');
  t.equal(htmlDecode('&#106avascript&colon;&lt;'), 'javascript:<', 'numeric references without ";"');
});

t.test('SQL injection fixtures are detected, benign lookalikes are not', async (t) => {
  for (const line of fixture('sqli-attacks.txt')) {
    const r = inspectValue(line);
    t.ok(r.sqli.score >= SQLI_THRESHOLD, `attack: ${line} (${r.sqli.score} ${r.sqli.reason} ${r.sqli.fingerprint})`);
  }
  for (const line of fixture('sqli-benign.txt')) {
    const r = inspectValue(line);
    t.ok(r.sqli.score < SQLI_THRESHOLD, `benign: ${line} (${r.sqli.score} ${r.sqli.reason} ${r.sqli.fingerprint})`);
  }
});

t.test('URL-encoded payloads are decoded before classification', async (t) => {
  t.ok(inspectValue('1%27%20OR%20%271%27%3D%271').sqli.score >= SQLI_THRESHOLD);
  t.ok(inspectValue('1%2527%2520OR%25201%253D1').sqli.score >= SQLI_THRESHOLD, 'double encoding');
  t.ok(inspectValue('%3Cscript%3Ealert(1)%3C/script%3E').xss.score >= XSS_THRESHOLD);
  t.ok(inspectValue("1'+or+'1'='1", { plusAsSpace: true }).sqli.score >= SQLI_THRESHOLD);
});

t.test('XSS fixtures are detected, benign markup-like text is not', async (t) => {
  for (const line of fixture('xss-attacks.txt')) {
    const r = inspectValue(line);
    t.ok(r.xss.score >= XSS_THRESHOLD, `attack: ${line} (${r.xss.score} ${r.xss.reason})`);
  }
  for (const line of fixture('xss-benign.txt')) {
    const r = inspectValue(line);
    t.ok(r.xss.score < XSS_THRESHOLD, `benign: ${line} (${r.xss.score} ${r.xss.reason})`);
  }
});

t.test('findings explain themselves', async (t) => {
  const s = scoreSqli("1' union select password from users--");
  t.equal(s.reason, 'union select');
  t.equal(s.context, 'single-quote');
  t.match(s.fingerprint, /^sUE/);
  const x = scoreXss('<img src=x onerror=alert(1)>');
  t.match(x.reason, /event handler onerror/);
});

t.test('database statements: injected shapes flagged, ordinary queries not', async (t) => {
  t.ok(scoreStatement("SELECT * FROM users WHERE name = 'x' OR 1=1").score >= 0.5);
  t.ok(scoreStatement("SELECT * FROM users WHERE id = 1 AND SLEEP(5)").score >= 0.5);
  t.ok(scoreStatement("SELECT name FROM t WHERE id = 1 UNION SELECT table_name FROM information_schema.tables").score >= 0.5);
  t.equal(scoreStatement('SELECT id, name FROM users WHERE id = ? AND active = 1').score, 0);
  t.equal(scoreStatement('UPDATE orders SET status = $1 WHERE id = $2').score, 0);
});

t.test('cost is linear in the input: 1 MB adversarial strings', async (t) => {
  const shapes = [
    (n: number) => "'".repeat(n),
    (n: number) => '/*'.repeat(n / 2),
    (n: number) => '<a '.repeat(n / 3),
    (n: number) => '(' .repeat(n),
    (n: number) => '1 or '.repeat(n / 5),
    (n: number) => '[' .repeat(n),
    (n: number) => '<img src="'.repeat(n / 10),
    (n: number) => '&#'.repeat(n / 2),
    (n: number) => '%'.repeat(n),
    (n: number) => 'a'.repeat(n),
    (n: number) => "\\'".repeat(n / 2),
    (n: number) => 'sleep/**/'.repeat(n / 9),
  ];
  for (const make of shapes) {
    const big = make(1 << 20);
        const time = (s: string): number => {
      const t0 = process.hrtime.bigint();
      inspectValue(s, { maxLength: 1 << 21 });
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    // An absolute bound rather than a ratio of two timings (which a busy machine or a GC makes
    // noisy): quadratic work on 1 MB is ~10^12 steps, minutes at best; linear work is well under 1 s.
    const tb = Math.min(time(big), time(big));
    t.ok(tb < 5000, `${JSON.stringify(big.slice(0, 12))}…: 1 MB in ${tb.toFixed(1)} ms`);
  }
});
