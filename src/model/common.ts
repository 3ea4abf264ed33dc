/**
 * Values shared by the three signals, mirroring OTLP's common.proto.
 *
 * The representation is chosen so that nothing OTLP can carry is lost between receiving and
 * exporting, while the common cases stay plain JavaScript values that processors can read directly:
 *
 * | OTLP AnyValue   | JavaScript                                                           |
 * |-----------------|----------------------------------------------------------------------|
 * | string_value    | string                                                               |
 * | bool_value      | boolean                                                              |
 * | int_value       | number when it is a safe integer, bigint beyond ±2^53                |
 * | double_value    | number; an integral double (1.0) is boxed as `Double` so it does not |
 * |                 | come back out as an int                                              |
 * | bytes_value     | Uint8Array                                                           |
 * | array_value     | AnyValue[]                                                           |
 * | kvlist_value    | KvList (a class, so it is never confused with attributes)            |
 * | (no value set)  | null                                                                 |
 */

export class Double {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
}

export class KvList {
  constructor(readonly values: Attributes) {}
}

export type AnyValue =
  | string
  | boolean
  | number
  | bigint
  | Double
  | Uint8Array
  | AnyValue[]
  | KvList
  | null;

/**
 * Attribute map. Keys come from the network, so producers must never assign `__proto__` with
 * plain `obj[key] = v`; use `setAttr`, which defines it as an own property instead.
 */
export type Attributes = Record<string, AnyValue>;

export function setAttr(attrs: Attributes, key: string, value: AnyValue): void {
  if (key === '__proto__') {
    Object.defineProperty(attrs, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    attrs[key] = value;
  }
}

/** A number for any numeric AnyValue (int, bigint, double, boxed double), else undefined. */
export function numericValue(v: AnyValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Double) return v.value;
  return undefined;
}

/** A readable string for any AnyValue: strings as is, others in a compact JSON-like form. */
export function stringValue(v: AnyValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (v === null) return '';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Double) return String(v.value);
  return JSON.stringify(anyValueToJs(v));
}

/** Plain JSON-safe JavaScript for an AnyValue (bigint → string, bytes → base64). Lossy by design. */
export function anyValueToJs(v: AnyValue): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Double) return v.value;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(anyValueToJs);
  if (v instanceof KvList) return attributesToJs(v.values);
  return null;
}

export function attributesToJs(attrs: Attributes): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(attrs)) {
    const val = anyValueToJs(attrs[k]);
    if (k === '__proto__') Object.defineProperty(out, k, { value: val, enumerable: true, writable: true, configurable: true });
    else out[k] = val;
  }
  return out;
}

export function cloneAnyValue(v: AnyValue): AnyValue {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Double) return v; // immutable
  if (v instanceof Uint8Array) return v.slice();
  if (Array.isArray(v)) return v.map(cloneAnyValue);
  return new KvList(cloneAttributes(v.values));
}

export function cloneAttributes(attrs: Attributes): Attributes {
  const out: Attributes = {};
  for (const k of Object.keys(attrs)) setAttr(out, k, cloneAnyValue(attrs[k]));
  return out;
}

export interface Resource {
  attributes: Attributes;
  droppedAttributesCount: number;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: Attributes;
  droppedAttributesCount: number;
}

export function emptyResource(): Resource {
  return { attributes: {}, droppedAttributesCount: 0 };
}

export function emptyScope(): InstrumentationScope {
  return { name: '', version: '', attributes: {}, droppedAttributesCount: 0 };
}

export function cloneResource(r: Resource): Resource {
  return { attributes: cloneAttributes(r.attributes), droppedAttributesCount: r.droppedAttributesCount };
}

export function cloneScope(s: InstrumentationScope): InstrumentationScope {
  return { name: s.name, version: s.version, attributes: cloneAttributes(s.attributes), droppedAttributesCount: s.droppedAttributesCount };
}

/**
 * Times are unix nanoseconds as bigint: today's values (~1.8e18) are far past 2^53, so a number
 * would round them to ~256 ns. 0n means "unset", as in OTLP.
 */
export type Nanos = bigint;

export function nowNanos(): Nanos {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

export function nanosToMillis(n: Nanos): number {
  return Number(n / 1_000_000n);
}

export function millisToNanos(ms: number): Nanos {
  return BigInt(Math.trunc(ms)) * 1_000_000n;
}

/** Trace ids (16 bytes) and span ids (8 bytes) are lowercase hex strings; "" when unset. */
export type TraceId = string;
export type SpanId = string;
