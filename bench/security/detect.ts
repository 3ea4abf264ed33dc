/**
 * Detection benchmark for the injection detectors: recall per attack type, false-positive rate on
 * benign values, and per-value latency (p50/p99) per type.
 *
 *   node dist/bench/security/detect.js --attacks FILE ... --benign FILE ... --csv FILE ... \
 *        [--url-decode] [--show-misses N] [--show-fp N] [--json]
 *
 * --attacks files hold one payload per line (`#` comments and blank lines skipped); the attack type
 * is taken from the file name prefix (sqli-*, xss-*), else `--type NAME` before the files.
 * --csv files need `payload` and `label` columns (`attack_type` is used for the type when present;
 * label `norm` is benign). --url-decode percent-decodes plain-file lines first (+ as space), as the
 * libinjection sample files expect.
 *
 * Benign corpora of real text: --html-dir DIR (every line with markup of every .html file under
 * DIR, e.g. /usr/share/doc, except page-level markup: script, object, style, link, meta ...), --yaml-texts FILE (a YAML list of texts, e.g. GoTestWAF's
 * false-pos-texts.yml). --half tune|holdout keeps every other file (html) or line (texts), so a
 * choice tuned on one half is reported on the other.
 *
 * --crs PATH [--paranoia N] [--threshold 5] adds the OWASP CRS rules: each value is sent as the
 * query parameter `q` of a GET request, and a value counts as detected (or falsely flagged) when
 * Vigil's detectors or CRS's anomaly score at that paranoia level say so, as in the processor.
 * --every K keeps every K-th sample (CRS costs milliseconds per request).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CrsRequest, CrsRuleSet, familyScore } from '../../processors/security/crs/ruleset';
import { percentDecode } from '../../processors/security/detect/decode';
import { inspectValueNoCache as inspectValue, SQLI_THRESHOLD, XSS_THRESHOLD } from '../../processors/security/detect/injection';

interface Sample {
  payload: string;
  /** 'sqli', 'xss', other attack names, or 'benign'. */
  type: string;
  source: string;
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += c;
    } else if (c === '"') inQuotes = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function loadPlain(path: string, type: string | undefined, benign: boolean, urlDecode: boolean): Sample[] {
  const name = basename(path);
  const t = benign ? 'benign' : type ?? (name.startsWith('sqli') ? 'sqli' : name.startsWith('xss') ? 'xss' : name.replace(/\..*$/, ''));
  const out: Sample[] = [];
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    out.push({ payload: urlDecode ? percentDecode(line, true) : line, type: t, source: name });
  }
  return out;
}

function loadCsv(path: string): Sample[] {
  const rows = parseCsv(readFileSync(path, 'utf8'));
  const header = rows.shift() ?? [];
  const p = header.indexOf('payload');
  const l = header.indexOf('label');
  const a = header.indexOf('attack_type');
  if (p < 0 || l < 0) throw new Error(`${path}: needs payload and label columns`);
  return rows.filter((r) => r.length > Math.max(p, l)).map((r) => {
    const label = r[l];
    const type = label === 'norm' ? 'benign' : a >= 0 && r[a] && r[a] !== 'norm' ? r[a] : label;
    return { payload: r[p], type, source: basename(path) };
  });
}

function htmlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) htmlFiles(p, out);
    else if (name.endsWith('.html') || name.endsWith('.htm')) out.push(p);
  }
  return out;
}

const PAGE_LEVEL = /<\/?(?:script|object|embed|applet|iframe|style|link|meta|html|head|body|base)\b|<\?xml|<!DOCTYPE/i;

function loadHtml(dir: string, half: string | undefined): Sample[] {
  const out: Sample[] = [];
  htmlFiles(dir).forEach((file, k) => {
    if (half && (k % 2 === 0) !== (half === 'tune')) return;
    for (const raw of readFileSync(file, 'utf8').split('\n')) {
      const line = raw.trim();
      if (line.length < 8 || line.length > 4000 || line.indexOf('<') < 0) continue;
      // Page-level markup (scripts, styles, head elements) is the page's own, not content a user
      // submits; fragments like the Wikipedia set are body content.
      if (PAGE_LEVEL.test(line)) continue;
      out.push({ payload: line, type: 'benign-html', source: basename(file) });
    }
  });
  return out;
}

function loadYamlTexts(path: string, half: string | undefined): Sample[] {
  const out: Sample[] = [];
  let k = 0;
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*-\s+(.*)$/.exec(raw);
    if (!m) continue;
    let v = m[1];
    if ((v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1).replace(/''/g, "'");
    else if (v.startsWith('"') && v.endsWith('"')) v = JSON.parse(v) as string;
    if (half && ((k++ % 2 === 0) !== (half === 'tune'))) continue;
    out.push({ payload: v, type: 'benign-text', source: basename(path) });
  }
  return out;
}

function asRequest(v: string): CrsRequest {
  const q = `q=${encodeURIComponent(v)}`;
  return { method: 'GET', uri: `/search?${q}`, path: '/search', query: q, protocol: 'HTTP/1.1', args: [{ name: 'q', value: v, from: 'get' }], headers: [['host', 'shop.example'], ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64)'], ['accept', 'text/html']], cookies: [], body: '' };
}

function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function main(): void {
  const args = process.argv.slice(2);
  const samples: Sample[] = [];
  let urlDecode = false;
  let showMisses = 0;
  let showFp = 0;
  let json = false;
  const pending: Array<() => void> = [];
  let type: string | undefined;
  let half: string | undefined;
  let crs: CrsRuleSet | undefined;
  let paranoia = 1;
  let threshold = 5;
  let every = 1;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--url-decode') urlDecode = true;
    else if (a === '--half') half = args[++i];
    else if (a === '--html-dir') {
      const d = args[++i];
      pending.push(() => { for (const x of loadHtml(d, half)) samples.push(x); });
    } else if (a === '--yaml-texts') {
      const f = args[++i];
      pending.push(() => samples.push(...loadYamlTexts(f, half)));
    } else if (a === '--crs') {
      const loaded = CrsRuleSet.load([args[++i]]);
      crs = loaded.ruleset;
      console.error(`CRS: ${loaded.result.rules} rules run, ${loaded.result.unsupported.length} cannot run, ${loaded.result.control} control`);
    } else if (a === '--paranoia') paranoia = Number(args[++i]);
    else if (a === '--threshold') threshold = Number(args[++i]);
    else if (a === '--every') every = Number(args[++i]);
    else if (a === '--json') json = true;
    else if (a === '--show-misses') showMisses = Number(args[++i]);
    else if (a === '--show-fp') showFp = Number(args[++i]);
    else if (a === '--type') type = args[++i];
    else if (a === '--attacks' || a === '--benign' || a === '--csv') {
      const kind = a;
      const t = type;
      // Every following non-option argument is a file of this kind.
      while (i + 1 < args.length && !args[i + 1].startsWith('--')) {
        const file = args[++i];
        pending.push(() => samples.push(...(kind === '--csv' ? loadCsv(file) : loadPlain(file, t, kind === '--benign', urlDecode))));
      }
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const p of pending) p();
  if (every > 1) samples.splice(0, samples.length, ...samples.filter((_, k) => k % every === 0));
  if (!samples.length) {
    console.error('usage: detect --attacks FILE... --benign FILE... --csv FILE... [--url-decode]');
    process.exit(2);
  }

  // Warm up the JIT so the latency figures describe steady state. No result cache is involved:
  // each figure is what a value costs the first time the processor sees it.
  for (let k = 0; k < Math.min(samples.length, 3000); k++) inspectValue(samples[k].payload);

  const byType = new Map<string, { n: number; hit: number; lat: number[]; misses: string[]; fps: string[] }>();
  for (const s of samples) {
    const t0 = process.hrtime.bigint();
    const r = inspectValue(s.payload);
    const ev = crs?.evaluate(asRequest(s.payload), paranoia);
    const dt = Number(process.hrtime.bigint() - t0) / 1000;
    // As the processor decides: per family, SQLi and XSS combined with Vigil's own confidence.
    const points = (f: (c: string) => boolean): number => (ev ? ev.matches.filter((m) => f(m.category)).reduce((n, m) => n + m.points, 0) : 0);
    const sq = familyScore(points((c) => c === 'sqli'), r.sqli.score, threshold) >= SQLI_THRESHOLD;
    const xs = familyScore(points((c) => c === 'xss'), r.xss.score, threshold) >= XSS_THRESHOLD;
    const byCrs = familyScore(points((c) => c !== 'sqli' && c !== 'xss'), 0, threshold) >= 0.5;
    let e = byType.get(s.type);
    if (!e) byType.set(s.type, (e = { n: 0, hit: 0, lat: [], misses: [], fps: [] }));
    e.n++;
    e.lat.push(dt);
    const crsNote = ev ? ` crs=${ev.score} ${ev.matches.map((m) => m.id).join(',')}` : '';
    if (s.type.startsWith('benign')) {
      if (sq || xs || byCrs) {
        e.hit++;
        e.fps.push(`${s.source}: ${JSON.stringify(s.payload.slice(0, 160))} sqli=${r.sqli.score} ${r.sqli.reason} ${r.sqli.fingerprint} xss=${r.xss.score} ${r.xss.reason}${crsNote}`);
      }
    } else {
      // An attack counts as detected by its own family (SQLi caught only by an LFI rule does not).
      const detected = s.type === 'sqli' ? sq : s.type === 'xss' ? xs : sq || xs || byCrs;
      if (detected) e.hit++;
      else e.misses.push(`${s.source}: ${JSON.stringify(s.payload.slice(0, 160))} sqli=${r.sqli.score} ${r.sqli.fingerprint} xss=${r.xss.score}${crsNote}`);
    }
  }

  const report: Record<string, unknown>[] = [];
  for (const [t, e] of [...byType].sort()) {
    e.lat.sort((a, b) => a - b);
    const row = {
      type: t,
      samples: e.n,
      [t.startsWith('benign') ? 'false_positives' : 'detected']: e.hit,
      [t.startsWith('benign') ? 'fp_rate' : 'recall']: +(e.hit / e.n).toFixed(5),
      p50_us: +percentile(e.lat, 0.5).toFixed(2),
      p99_us: +percentile(e.lat, 0.99).toFixed(2),
      max_us: +e.lat[e.lat.length - 1].toFixed(1),
    };
    report.push(row);
  }
  if (json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log('type\tsamples\thits\trate\tp50_us\tp99_us\tmax_us');
    for (const r of report) console.log(Object.values(r).join('\t'));
    console.log('(rate: recall for attack types, false-positive rate for benign; detection of types other than sqli/xss counts either detector)');
  }
  for (const [t, e] of byType) {
    if (showMisses && e.misses.length) {
      console.log(`\nmissed ${t} (${e.misses.length}):`);
      for (const m of e.misses.slice(0, showMisses)) console.log('  ' + m);
    }
    if (showFp && e.fps.length) {
      console.log(`\nfalse positives (${e.fps.length}):`);
      for (const m of e.fps.slice(0, showFp)) console.log('  ' + m);
    }
  }
}

main();
