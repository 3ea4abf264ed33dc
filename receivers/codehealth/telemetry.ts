/** Turning scan results and sprint status into OTLP metrics and log records. */
import type { Attributes, Logs, Metric, Metrics, Resource } from '../../src/model';
import { Severity } from '../../src/model/logs';
import type { ScanResult, StubRecord } from './analyze/scan';
import type { SprintStatus } from './sprint';

const SCOPE = { name: 'vigil.codehealth', version: '0.1.0', attributes: {}, droppedAttributesCount: 0 };

export function resourceOf(repository: string, path: string): Resource {
  return { attributes: { 'service.name': 'codehealth', 'codehealth.repository': repository, 'vcs.repository.path': path }, droppedAttributesCount: 0 };
}

function gauge(name: string, description: string, unit: string, points: Array<[Attributes, number]>, t: bigint): Metric {
  return {
    name, description, unit, metadata: {},
    data: {
      type: 'gauge',
      dataPoints: points.map(([attributes, value]) => ({ attributes, value, isInt: Number.isInteger(value) && unit !== '1', startTimeUnixNano: 0n, timeUnixNano: t, exemplars: [], flags: 0 })),
    },
  };
}

export function scanMetrics(repository: string, path: string, r: ScanResult, sprint: SprintStatus | undefined, t: bigint): Metrics {
  const per = (f: (c: ScanResult['components'][number]) => number): Array<[Attributes, number]> => r.components.map((c) => [{ 'codehealth.component': c.name }, f(c)]);
  const metrics: Metric[] = [
    gauge('codehealth.functions', 'Functions and methods found (test files excluded).', '{function}', per((c) => c.functions), t),
    gauge('codehealth.functions.implemented', 'Functions judged implemented.', '{function}', per((c) => c.implemented), t),
    gauge('codehealth.stubs', 'Functions judged stubs.', '{function}', per((c) => c.stubs), t),
    gauge('codehealth.score', 'Implementation score: implemented / (implemented + stubs).', '1', [...per((c) => c.score), [{}, r.score]], t),
    gauge('codehealth.loc', 'Non-blank lines of source code.', '{line}', per((c) => c.loc), t),
    gauge('codehealth.test_files', 'Test files.', '{file}', per((c) => c.test_files), t),
    gauge('codehealth.files.skipped', 'Files skipped, by reason (binary, too_large, syntax_error, ...).', '{file}', countBy(r.problems.map((p) => p.reason)).map(([k, n]) => [{ 'codehealth.reason': k }, n]), t),
  ];
  // The goals about this repository go out with its other metrics; the rest (and the sprint's
  // total) with the sprint's own resource, see sprintMetrics.
  if (sprint) metrics.push(goalGauge(sprint, sprint.goals.filter((g) => g.repository === repository), t));
  for (const m of metrics) if (m.data.type === 'gauge' && m.data.dataPoints.length === 0) m.data.dataPoints = [];
  return { resourceMetrics: [{ resource: resourceOf(repository, path), schemaUrl: '', scopeMetrics: [{ scope: SCOPE, schemaUrl: '', metrics: metrics.filter((m) => m.data.dataPoints.length) }] }] };
}

function goalGauge(sprint: SprintStatus, goals: SprintStatus['goals'], t: bigint): Metric {
  return gauge('codehealth.sprint.goal.completion', 'Completion of each sprint goal (0–1).', '1', goals.map((g) => [{ 'codehealth.sprint': sprint.name, 'codehealth.goal': g.id }, g.completion]), t);
}

/**
 * The sprint's weighted completion and its goals that concern no single repository (a metric query,
 * a GitHub milestone, or a code goal whose repository is not configured), under a resource of their
 * own: a sprint spans repositories, so its total belongs to none of them.
 */
export function sprintMetrics(sprint: SprintStatus, repositories: readonly string[], t: bigint): Metrics {
  const metrics = [
    gauge('codehealth.sprint.completion', 'Weighted completion of the sprint (0–1).', '1', [[{ 'codehealth.sprint': sprint.name }, sprint.completion]], t),
    goalGauge(sprint, sprint.goals.filter((g) => g.repository === undefined || !repositories.includes(g.repository)), t),
  ];
  const resource: Resource = { attributes: { 'service.name': 'codehealth', 'codehealth.sprint': sprint.name }, droppedAttributesCount: 0 };
  return { resourceMetrics: [{ resource, schemaUrl: '', scopeMetrics: [{ scope: SCOPE, schemaUrl: '', metrics: metrics.filter((m) => m.data.type === 'gauge' && m.data.dataPoints.length) }] }] };
}

function countBy(keys: string[]): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m];
}

export function stubLogs(repository: string, path: string, stubs: StubRecord[], t: bigint): Logs {
  return {
    resourceLogs: [{
      resource: resourceOf(repository, path), schemaUrl: '',
      scopeLogs: [{
        scope: SCOPE, schemaUrl: '',
        logRecords: stubs.map((s) => ({
          timeUnixNano: t, observedTimeUnixNano: t, severityNumber: Severity.INFO, severityText: 'INFO',
          body: `stub (${s.kind}): ${s.function} at ${s.file}:${s.line}`,
          attributes: { 'code.filepath': s.file, 'code.lineno': s.line, 'code.function': s.function, 'codehealth.stub.kind': s.kind, 'codehealth.component': s.component },
          droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: 'codehealth.stub',
        })),
      }],
    }],
  };
}
