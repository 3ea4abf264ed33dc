/** Protobuf → model for the parts every signal shares (values, attributes, resource, scope). */
import { AnyValue, Attributes, Double, InstrumentationScope, KvList, Resource } from '../model/common';
import { DecodeError, rethrowWithin } from './errors';
import { Reader } from './reader';
import { WideValue, budget, chargeNested, chargeValues } from './limits';

/** Nesting of arrays and kvlists allowed inside one value; deeper input is refused, not recursed into. */
export const MAX_VALUE_DEPTH = 64;

// Tags are (field number << 3) | wire type; named by field so the switches read like the schema.
const ANY_STRING = (1 << 3) | 2;
const ANY_BOOL = (2 << 3) | 0;
const ANY_INT = (3 << 3) | 0;
const ANY_DOUBLE = (4 << 3) | 1;
const ANY_ARRAY = (5 << 3) | 2;
const ANY_KVLIST = (6 << 3) | 2;
const ANY_BYTES = (7 << 3) | 2;
const ANY_FIELDS = [undefined, 'stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'];

const KV_KEY = (1 << 3) | 2;
const KV_VALUE = (2 << 3) | 2;
const KV_FIELDS = [undefined, 'key', 'value'];

const VALUES = (1 << 3) | 2;
const VALUES_FIELDS = [undefined, 'values'];

export function decodeAnyValue(r: Reader, end: number, depth: number): AnyValue {
  let v: AnyValue = null;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case ANY_STRING: v = r.string(end); break;
      case ANY_BOOL: v = r.bool(); break;
      case ANY_INT: v = r.int64(); break;
      case ANY_DOUBLE: {
        const d = r.double();
        // Boxed so an integral double is not re-encoded as an int.
        v = Number.isInteger(d) ? new Double(d) : d;
        break;
      }
      case ANY_ARRAY: {
        const e = r.lengthEnd(end);
        try { v = decodeArrayValue(r, e, depth + 1); } catch (err) { rethrowWithin(err, 'arrayValue'); }
        break;
      }
      case ANY_KVLIST: {
        const e = r.lengthEnd(end);
        const attrs: Attributes = {};
        try { decodeKeyValues(r, e, attrs, depth + 1); } catch (err) { rethrowWithin(err, 'kvlistValue'); }
        v = new KvList(attrs);
        break;
      }
      case ANY_BYTES: v = r.bytes(end); break;
      default: r.skip(tag, end, ANY_FIELDS);
    }
  }
  r.finish(end);
  return v;
}

function checkDepth(depth: number): void {
  if (depth > MAX_VALUE_DEPTH) throw new DecodeError(`values nested deeper than ${MAX_VALUE_DEPTH} levels`);
}

function decodeArrayValue(r: Reader, end: number, depth: number): AnyValue[] {
  checkDepth(depth);
  const out: AnyValue[] = [];
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === VALUES) {
      chargeNested();
      const e = r.lengthEnd(end);
      try { out.push(decodeAnyValue(r, e, depth)); } catch (err) { rethrowWithin(err, `values[${out.length}]`); }
    } else {
      r.skip(tag, end, VALUES_FIELDS);
    }
  }
  r.finish(end);
  return out;
}

/** A KeyValueList body (field 1 = repeated KeyValue) into `attrs`. */
function decodeKeyValues(r: Reader, end: number, attrs: Attributes, depth: number): void {
  checkDepth(depth);
  let i = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === VALUES) {
      chargeNested();
      const e = r.lengthEnd(end);
      try { decodeKeyValue(r, e, attrs, depth); } catch (err) { rethrowWithin(err, `values[${i}]`); }
      i++;
    } else {
      r.skip(tag, end, VALUES_FIELDS);
    }
  }
  r.finish(end);
}

/** One KeyValue message into `attrs` (a repeated key keeps its last value, as in the Collector). */
export function decodeKeyValue(r: Reader, end: number, attrs: Attributes, depth = 0): void {
  let key = '';
  let value: AnyValue = null;
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === KV_KEY) key = r.key(end);
    else if (tag === KV_VALUE) {
      const e = r.lengthEnd(end);
      try { value = decodeAnyValue(r, e, depth); } catch (err) { rethrowWithin(err, 'value'); }
    } else r.skip(tag, end, KV_FIELDS);
  }
  r.finish(end);
  // setAttr's rule, inlined on this hot path: "__proto__" must become an own property.
  if (key === '__proto__') Object.defineProperty(attrs, key, { value, enumerable: true, writable: true, configurable: true });
  else attrs[key] = value;
}

/**
 * Reads one repeated-KeyValue field occurrence; `index` (the item's attributes read so far) and
 * `field` name it in errors. Returns 1 when the attribute was dropped under the decode limits (see
 * limits.ts), for the caller to add to the item's droppedAttributesCount, else 0.
 */
export function readAttribute(r: Reader, end: number, attrs: Attributes, field: string, index: number): number {
  const e = r.lengthEnd(end);
  if (index >= budget.maxAttributes) {
    r.pos = e;
    budget.droppedAttributes++;
    return 1;
  }
  chargeValues(1);
  budget.nested = budget.maxAttributes;
  try {
    decodeKeyValue(r, e, attrs);
  } catch (err) {
    if (!(err instanceof WideValue)) rethrowWithin(err, `${field}[${index}]`);
    r.pos = e;
    budget.droppedAttributes++;
    return 1;
  }
  return 0;
}

const RES_ATTR = (1 << 3) | 2;
const RES_DROPPED = (2 << 3) | 0;
const RES_FIELDS = [undefined, 'attributes', 'droppedAttributesCount'];
// entity_refs (3) is development-status upstream and has no place in the model: skipped as unknown.

export function decodeResource(r: Reader, end: number, into: Resource): void {
  let n = Object.keys(into.attributes).length;
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === RES_ATTR) into.droppedAttributesCount += readAttribute(r, end, into.attributes, 'attributes', n++);
    else if (tag === RES_DROPPED) into.droppedAttributesCount += r.varint32();
    else r.skip(tag, end, RES_FIELDS);
  }
  r.finish(end);
}

const SCOPE_NAME = (1 << 3) | 2;
const SCOPE_VERSION = (2 << 3) | 2;
const SCOPE_ATTR = (3 << 3) | 2;
const SCOPE_DROPPED = (4 << 3) | 0;
const SCOPE_FIELDS = [undefined, 'name', 'version', 'attributes', 'droppedAttributesCount'];

export function decodeScope(r: Reader, end: number, into: InstrumentationScope): void {
  let n = Object.keys(into.attributes).length;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case SCOPE_NAME: into.name = r.string(end); break;
      case SCOPE_VERSION: into.version = r.string(end); break;
      case SCOPE_ATTR: into.droppedAttributesCount += readAttribute(r, end, into.attributes, 'attributes', n++); break;
      case SCOPE_DROPPED: into.droppedAttributesCount += r.varint32(); break;
      default: r.skip(tag, end, SCOPE_FIELDS);
    }
  }
  r.finish(end);
}

/**
 * Runs a nested-message decoder over the length-delimited field at the reader, naming it in errors
 * (`index` < 0 for a non-repeated field).
 */
export function nested<T>(r: Reader, end: number, field: string, index: number, decode: (r: Reader, end: number) => T): T {
  const e = r.lengthEnd(end);
  try {
    return decode(r, e);
  } catch (err) {
    // The segment string is only built on failure, keeping the success path allocation-free.
    rethrowWithin(err, index < 0 ? field : `${field}[${index}]`);
  }
}
