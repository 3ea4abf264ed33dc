/**
 * Durations in config: Go-style strings as the Collector takes them ("200ms", "5s", "1m30s", "168h")
 * or a number of milliseconds.
 */
const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/y;

export function parseDuration(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new Error(`invalid duration ${v}`);
    return v;
  }
  const s = v.trim();
  if (s === '0') return 0;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) throw new Error(`invalid duration "${v}": expected e.g. 500ms, 5s, 1m30s, 2h`);
    total += parseFloat(m[1]) * UNITS[m[2]];
    pos = PART.lastIndex;
  }
  if (s.length === 0) throw new Error('invalid duration "": expected e.g. 500ms, 5s, 1m30s, 2h');
  return total;
}

/** JSON Schema for a duration field. */
export function durationSchema(def: string, description?: string): Record<string, unknown> {
  return {
    anyOf: [{ type: 'string', pattern: '^(0|(\\d+(\\.\\d+)?(ns|us|µs|ms|s|m|h|d))+)$' }, { type: 'number', minimum: 0 }],
    default: def,
    ...(description ? { description } : {}),
  };
}
