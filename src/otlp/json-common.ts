/**
 * OTLP/JSON ↔ model, shared parts. Reading follows the OTLP/JSON rules (lowerCamelCase keys, ids
 * as hex, 64-bit integers as decimal strings or numbers, enums as integers) and is lenient where
 * the proto3 JSON mapping is (snake_case keys, enum names, numbers as strings); anything of the
 * wrong type is a DecodeError naming the path. Writing produces what the Collector writes.
 */
import { AnyValue, Attributes, Double, InstrumentationScope, KvList, Resource, emptyResource, emptyScope, setAttr } from '../model/common';
import { DecodeError, rethrowWithin } from './errors';
import { MAX_VALUE_DEPTH } from './decode-common';

export type JsonObject = Record<string, unknown>;

const snakeNames = new Map<string, string>();
function snake(camel: string): string {
  let s = snakeNames.get(camel);
  if (s === undefined) {
    s = camel.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
    snakeNames.set(camel, s);
  }
  return s;
}

/** A field by its JSON name, or by its proto name. */
export function get(o: JsonObject, camel: string): unknown {
  const v = o[camel];
  if (v !== undefined) return v;
  return o[snake(camel)];
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function fail(field: string, expected: string, v: unknown): never {
  throw new DecodeError(`expected ${expected}, got ${kind(v)}`, field);
}

export function asObject(v: unknown, field: string): JsonObject {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as JsonObject;
  return fail(field, 'an object', v);
}

/** A repeated field: absent or null is empty. */
export function arrayField(o: JsonObject, camel: string): unknown[] {
  const v = get(o, camel);
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  return fail(camel, 'an array', v);
}

/** Maps each element of a repeated message field, naming `field[i]` in errors. */
export function mapArray<T>(o: JsonObject, camel: string, fn: (item: JsonObject) => T): T[] {
  const arr = arrayField(o, camel);
  const out: T[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    try {
      out[i] = fn(asObject(arr[i], ''));
    } catch (err) {
      rethrowWithin(err, `${camel}[${i}]`);
    }
  }
  return out;
}

/** A singular message field; `undefined` when absent or null. */
export function objectField(o: JsonObject, camel: string): JsonObject | undefined {
  const v = get(o, camel);
  if (v === undefined || v === null) return undefined;
  return asObject(v, camel);
}

export function withinField<T>(camel: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    rethrowWithin(err, camel);
  }
}

export function stringField(o: JsonObject, camel: string): string {
  const v = get(o, camel);
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return fail(camel, 'a string', v);
}

export function boolField(o: JsonObject, camel: string): boolean {
  const v = get(o, camel);
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  return fail(camel, 'a boolean', v);
}

const DECIMAL = /^-?\d{1,20}$/;

/** int64 from a decimal string or number: a number when safe, else a bigint. */
export function int64Value(v: unknown, field: string): number | bigint {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return Number.isSafeInteger(v) ? v : BigInt(v);
    return fail(field, 'an integer', v);
  }
  if (typeof v === 'string' && DECIMAL.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
    const b = BigInt(v);
    if (b < -(1n << 63n) || b >= 1n << 63n) throw new DecodeError('integer out of int64 range', field);
    return b;
  }
  if (typeof v === 'string') throw new DecodeError('expected a decimal integer string', field);
  return fail(field, 'an integer or a decimal string', v);
}

/** fixed64 nanoseconds as an exact bigint. */
export function nanosField(o: JsonObject, camel: string): bigint {
  const v = get(o, camel);
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'string' && DECIMAL.test(v) && v[0] !== '-') {
    const b = BigInt(v);
    if (b >= 1n << 64n) throw new DecodeError('integer out of uint64 range', camel);
    return b;
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string') throw new DecodeError('expected an unsigned decimal integer string', camel);
  return fail(camel, 'an unsigned integer or a decimal string', v);
}

/** uint32 / fixed32 / int32 fields (numbers, or numeric strings as proto3 JSON allows). */
export function intField(o: JsonObject, camel: string, signed = false): number {
  const v = get(o, camel);
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && DECIMAL.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n) && (signed ? n >= -0x80000000 : n >= 0) && n <= 0xffffffff) return n;
  return fail(camel, signed ? 'a 32-bit integer' : 'an unsigned 32-bit integer', v);
}

/** uint64 / fixed64 counts as numbers (exact up to 2^53). */
export function countValue(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && DECIMAL.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return n;
  return fail(field, 'an unsigned integer or a decimal string', v);
}

export function countField(o: JsonObject, camel: string): number {
  return countValue(get(o, camel), camel);
}

/** double: a number, or "NaN" / "Infinity" / "-Infinity" / a numeric string as proto3 JSON allows. */
export function doubleValue(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    const n = Number(v);
    if (v.trim() !== '' && !Number.isNaN(n)) return n;
  }
  return fail(field, 'a number', v);
}

export function doubleField(o: JsonObject, camel: string): number {
  const v = get(o, camel);
  if (v === undefined || v === null) return 0;
  return doubleValue(v, camel);
}

export function optionalDoubleField(o: JsonObject, camel: string): number | undefined {
  const v = get(o, camel);
  if (v === undefined || v === null) return undefined;
  return doubleValue(v, camel);
}

/** An enum as an integer, or by its proto name. */
export function enumField(o: JsonObject, camel: string, names: Record<string, number>): number {
  const v = get(o, camel);
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    if (Object.prototype.hasOwnProperty.call(names, v)) return names[v];
    if (DECIMAL.test(v)) return Number(v);
    throw new DecodeError('unknown enum value name', camel);
  }
  return fail(camel, 'an enum number or name', v);
}

const HEX = /^[0-9a-fA-F]*$/;

/** A trace id (16 bytes) or span id (8 bytes) as hex, case-insensitive; "" when absent. */
export function idField(o: JsonObject, camel: string, size: number): string {
  const v = get(o, camel);
  if (v === undefined || v === null || v === '') return '';
  if (typeof v !== 'string') return fail(camel, 'a hex string', v);
  if (v.length !== size * 2 || !HEX.test(v)) {
    throw new DecodeError(`expected ${size * 2} hex digits (${size} bytes), got ${v.length} characters${HEX.test(v) ? '' : ' with non-hex characters'}`, camel);
  }
  return v.toLowerCase();
}

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

export function bytesValue(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string') return fail(field, 'a base64 string', v);
  if (!BASE64.test(v)) throw new DecodeError('invalid base64', field);
  return new Uint8Array(Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64'));
}

export function anyValueFromJson(v: unknown, depth = 0): AnyValue {
  if (v === undefined || v === null) return null;
  const o = asObject(v, '');
  let x: unknown;
  if ((x = get(o, 'stringValue')) !== undefined && x !== null) {
    if (typeof x !== 'string') fail('stringValue', 'a string', x);
    return x;
  }
  if ((x = get(o, 'boolValue')) !== undefined && x !== null) {
    if (typeof x !== 'boolean') fail('boolValue', 'a boolean', x);
    return x;
  }
  if ((x = get(o, 'intValue')) !== undefined && x !== null) return int64Value(x, 'intValue');
  if ((x = get(o, 'doubleValue')) !== undefined && x !== null) {
    const d = doubleValue(x, 'doubleValue');
    return Number.isInteger(d) ? new Double(d) : d;
  }
  if ((x = get(o, 'bytesValue')) !== undefined && x !== null) return bytesValue(x, 'bytesValue');
  if (depth >= MAX_VALUE_DEPTH) throw new DecodeError(`values nested deeper than ${MAX_VALUE_DEPTH} levels`);
  if ((x = get(o, 'arrayValue')) !== undefined && x !== null) {
    return withinField('arrayValue', () => {
      const values = arrayField(asObject(x, ''), 'values');
      const out: AnyValue[] = new Array(values.length);
      for (let i = 0; i < values.length; i++) {
        try { out[i] = anyValueFromJson(values[i], depth + 1); } catch (err) { rethrowWithin(err, `values[${i}]`); }
      }
      return out;
    });
  }
  if ((x = get(o, 'kvlistValue')) !== undefined && x !== null) {
    return withinField('kvlistValue', () => new KvList(attributesFromJson(asObject(x, ''), 'values', depth + 1)));
  }
  return null;
}

/** A repeated KeyValue field into an attribute map. */
export function attributesFromJson(o: JsonObject, camel: string, depth = 0): Attributes {
  const attrs: Attributes = {};
  const arr = arrayField(o, camel);
  for (let i = 0; i < arr.length; i++) {
    try {
      const kv = asObject(arr[i], '');
      const key = stringField(kv, 'key');
      let value: AnyValue = null;
      try { value = anyValueFromJson(get(kv, 'value'), depth); } catch (err) { rethrowWithin(err, 'value'); }
      setAttr(attrs, key, value);
    } catch (err) {
      rethrowWithin(err, `${camel}[${i}]`);
    }
  }
  return attrs;
}

export function resourceFromJson(o: JsonObject): Resource {
  const ro = objectField(o, 'resource');
  if (!ro) return emptyResource();
  return withinField('resource', () => ({
    attributes: attributesFromJson(ro, 'attributes'),
    droppedAttributesCount: intField(ro, 'droppedAttributesCount'),
  }));
}

export function scopeFromJson(o: JsonObject): InstrumentationScope {
  const so = objectField(o, 'scope');
  if (!so) return emptyScope();
  return withinField('scope', () => ({
    name: stringField(so, 'name'),
    version: stringField(so, 'version'),
    attributes: attributesFromJson(so, 'attributes'),
    droppedAttributesCount: intField(so, 'droppedAttributesCount'),
  }));
}

// ---- model → OTLP/JSON ----

export function doubleToJson(v: number): number | string {
  // JSON.stringify would write -0 as 0; proto3 JSON allows a numeric string instead.
  if (Object.is(v, -0)) return '-0';
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

export function anyValueToJson(v: AnyValue): JsonObject {
  if (v === null || v === undefined) return {};
  switch (typeof v) {
    case 'string': return { stringValue: v };
    case 'boolean': return { boolValue: v };
    case 'number': return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: doubleToJson(v) };
    case 'bigint': return { intValue: v.toString() };
  }
  if (v instanceof Double) return { doubleValue: doubleToJson(v.value) };
  if (v instanceof Uint8Array) return { bytesValue: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValueToJson) } };
  if (v instanceof KvList) return { kvlistValue: { values: attributesToJson(v.values) } };
  return {};
}

export function attributesToJson(attrs: Attributes): JsonObject[] {
  const out: JsonObject[] = [];
  for (const key in attrs) {
    if (Object.prototype.hasOwnProperty.call(attrs, key)) out.push({ key, value: anyValueToJson(attrs[key]) });
  }
  return out;
}

/** Sets `o[k] = v` unless v is the proto3 default (0, "", false, empty array). */
export function put(o: JsonObject, k: string, v: unknown): void {
  if (v === 0 || v === '' || v === false || v === 0n || v === undefined || (Array.isArray(v) && v.length === 0)) return;
  o[k] = typeof v === 'bigint' ? v.toString() : v;
}

export function resourceToJson(r: Resource): JsonObject {
  const o: JsonObject = {};
  put(o, 'attributes', attributesToJson(r.attributes));
  put(o, 'droppedAttributesCount', r.droppedAttributesCount);
  return o;
}

export function scopeToJson(s: InstrumentationScope): JsonObject {
  const o: JsonObject = {};
  put(o, 'name', s.name);
  put(o, 'version', s.version);
  put(o, 'attributes', attributesToJson(s.attributes));
  put(o, 'droppedAttributesCount', s.droppedAttributesCount);
  return o;
}
