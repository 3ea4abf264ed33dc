/**
 * Every PromQL expression in dashboards/grafana/*.json, run against a real Prometheus that scrapes a
 * Vigil fed by the OpenTelemetry JS SDK (the prometheus exporter and Vigil's own metrics), must
 * return data. Grafana's interval variables are replaced the way Grafana would for a 1-second scrape.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasPrometheus, startPrometheus } from './prometheus-fixtures';
import { startScenario } from './helpers/console-scenario';

const DIR = join(__dirname, '..', 'dashboards', 'grafana');

interface Panel {
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
  panels?: Panel[];
}

function expressions(): Array<{ file: string; panel: string; expr: string }> {
  const out: Array<{ file: string; panel: string; expr: string }> = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { panels: Panel[]; __inputs?: Array<{ name: string }> };
    const walk = (ps: Panel[]) => {
      for (const p of ps) {
        for (const tg of p.targets ?? []) out.push({ file, panel: p.title, expr: tg.expr });
        walk(p.panels ?? []);
      }
    };
    walk(d.panels);
  }
  return out;
}

t.test('the dashboards are importable JSON with a Prometheus data source input', async (t) => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  t.ok(files.length >= 2);
  for (const f of files) {
    const d = JSON.parse(readFileSync(join(DIR, f), 'utf8'));
    t.equal(d.__inputs?.[0]?.pluginId, 'prometheus', `${f}: asks for a Prometheus data source`);
    t.ok(d.uid && d.title && Array.isArray(d.panels) && d.panels.length, `${f}: uid, title, panels`);
    for (const p of d.panels) t.equal(p.datasource?.uid, '${DS_PROMETHEUS}', `${f} / ${p.title}: uses the data source input`);
  }
  t.ok(expressions().length >= 20, `${expressions().length} expressions`);
});

t.setTimeout(300_000);

if (!hasPrometheus) t.comment('prometheus is not installed (apt-get install -y prometheus): the PromQL check did not run');
else t.test('every PromQL expression returns data from a real Prometheus scraping Vigil', async (t) => {
  t.setTimeout(240_000);
  const s = await startScenario({ selfMetrics: true });
  t.teardown(() => s.stop());
  const prom = await startPrometheus(t, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: vigil-telemetry
    static_configs: [{ targets: ['${s.prometheus}'] }]
  - job_name: vigil
    static_configs: [{ targets: ['${s.selfMetrics}'] }]
`);
  // Keep traffic flowing while Prometheus scrapes, so rates and quantiles have something to say.
  let sending = true;
  const traffic = (async () => {
    while (sending) {
      await s.requests(5);
      await s.requests(1, 'POST /api/checkout');
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  t.teardown(async () => {
    sending = false;
    await traffic;
  });

  const query = async (expr: string) => {
    const promql = expr.replace(/\$__rate_interval/g, '1m').replace(/\$__interval/g, '1s').replace(/\$__range/g, '5m');
    const r = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const j = (await r.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (j.status !== 'success') throw new Error(`${promql}: ${j.error}`);
    return j.data!.result;
  };
  const all = expressions();
  const pending = new Map(all.map((e) => [e.expr, e]));
  const deadline = Date.now() + 120_000;
  // Wait until every expression has a series with a number (rates need two scrapes, the alert
  // gauge needs the rule to have run), then check them all once more.
  while (pending.size && Date.now() < deadline) {
    for (const [expr] of pending) {
      const res = await query(expr);
      if (res.some((r) => Number.isFinite(Number(r.value[1])))) pending.delete(expr);
    }
    if (pending.size) await new Promise((r) => setTimeout(r, 1000));
  }
  for (const e of all) {
    const res = await query(e.expr);
    t.ok(res.length > 0 && res.some((r) => Number.isFinite(Number(r.value[1]))), `${e.file} / ${e.panel}: ${e.expr}`);
  }
  // One value checked against what was sent: the SDK's spans are counted by service.
  const calls = await query('sum by (service_name) (traces_span_metrics_calls_total)');
  t.equal(calls[0]?.metric.service_name, 'checkout');
  t.ok(Number(calls[0]?.value[1]) >= 22, 'at least the 22 spans the scenario sent first');
});
