/** A trace by id, as a tree of spans (children nested under their parent, ordered by start time). */
import type Database from 'better-sqlite3';
import { ApiError } from '../api';
import { traceKey } from '../../exporters/sqlite/store';
import { checkTraceId, spanOut, SpanOut } from './search';

/** Spans returned per trace; a bigger trace is cut, and says so. */
export const MAX_TRACE_SPANS = 10_000;

export interface SpanNode extends SpanOut {
  children: SpanNode[];
  /** The parent span id is set but that span is not stored (not received, or deleted by retention). */
  missing_parent?: boolean;
}

export interface TraceOut {
  trace_id: string;
  span_count: number;
  truncated: boolean;
  start_time: string;
  duration_ms: number;
  services: string[];
  roots: SpanNode[];
}

export function getTrace(db: Database.Database, rawId: string): TraceOut {
  const traceId = checkTraceId(rawId);
  const rows = db.prepare(`SELECT t.*, r.attributes AS resource_attributes, sc.name AS scope_name, sc.version AS scope_version
    FROM spans t JOIN resources r ON r.resource_id = t.resource_id JOIN scopes sc ON sc.scope_id = t.scope_id
    WHERE t.trace_key = ? AND t.trace_id = ? ORDER BY t.start_time_unix_nano LIMIT ${MAX_TRACE_SPANS + 1}`).all(traceKey(traceId), traceId) as Record<string, unknown>[];
  if (rows.length === 0) throw new ApiError(404, `trace ${traceId} not found`);
  const truncated = rows.length > MAX_TRACE_SPANS;
  if (truncated) rows.length = MAX_TRACE_SPANS;
  const nodes = rows.map((r) => ({ ...spanOut(r), children: [] as SpanNode[] }) as SpanNode);
  const byId = new Map<string, SpanNode>();
  for (const n of nodes) if (!byId.has(n.span_id)) byId.set(n.span_id, n);
  const roots: SpanNode[] = [];
  const min = BigInt(nodes[0].start_time_unix_nano);
  let max = BigInt(nodes[0].end_time_unix_nano);
  for (const n of nodes) {
    const end = BigInt(n.end_time_unix_nano);
    if (end > max) max = end;
    const parent = n.parent_span_id ? byId.get(n.parent_span_id) : undefined;
    // A span that names itself as parent (broken instrumentation) must not vanish from the tree.
    if (parent && parent !== n) parent.children.push(n);
    else {
      if (n.parent_span_id) n.missing_parent = true;
      roots.push(n);
    }
  }
  // Parent links that form a cycle leave spans unreachable from any root: lift them to the top.
  const reached = new Set<SpanNode>();
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    reached.add(n);
    stack.push(...n.children);
  }
  for (const n of nodes) {
    if (reached.has(n)) continue;
    const parent = byId.get(n.parent_span_id);
    if (parent) parent.children = parent.children.filter((c) => c !== n);
    n.missing_parent = true;
    roots.push(n);
    const sub = [n];
    while (sub.length) {
      const m = sub.pop()!;
      reached.add(m);
      for (const c of m.children) if (!reached.has(c)) sub.push(c);
    }
  }
  return {
    trace_id: traceId,
    span_count: nodes.length,
    truncated,
    start_time: nodes[0].start_time,
    duration_ms: Number(max - min) / 1e6,
    services: [...new Set(nodes.map((n) => n.service))].sort(),
    roots,
  };
}
