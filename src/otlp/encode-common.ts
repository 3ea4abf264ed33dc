/** Model → protobuf for the shared parts; proto3 rules: zero values are not written, except inside a oneof. */
import { AnyValue, Attributes, Double, InstrumentationScope, KvList, Resource } from '../model/common';
import { Writer } from './writer';

export const LEN = 2;
export const I64 = 1;
export const VARINT = 0;
export const I32 = 5;

export function writeAnyValue(w: Writer, v: AnyValue): void {
  if (v === null || v === undefined) return;
  switch (typeof v) {
    case 'string': w.tag(1, LEN); w.string(v); return;
    case 'boolean': w.tag(2, VARINT); w.bool(v); return;
    case 'number':
      if (Number.isInteger(v)) { w.tag(3, VARINT); w.int64(v); } else { w.tag(4, I64); w.double(v); }
      return;
    case 'bigint': w.tag(3, VARINT); w.int64(v); return;
  }
  if (v instanceof Double) { w.tag(4, I64); w.double(v.value); return; }
  if (v instanceof Uint8Array) { w.tag(7, LEN); w.bytes(v); return; }
  if (Array.isArray(v)) {
    w.tag(5, LEN);
    const arr = w.fork();
    for (const item of v) {
      w.tag(1, LEN);
      const at = w.fork();
      writeAnyValue(w, item);
      w.ldelim(at);
    }
    w.ldelim(arr);
    return;
  }
  if (v instanceof KvList) {
    w.tag(6, LEN);
    const at = w.fork();
    writeAttributes(w, 1, v.values);
    w.ldelim(at);
  }
}

/** Each attribute as a KeyValue in repeated field `field`. */
export function writeAttributes(w: Writer, field: number, attrs: Attributes): void {
  for (const key in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
    w.tag(field, LEN);
    const kv = w.fork();
    w.tag(1, LEN);
    w.string(key);
    w.tag(2, LEN);
    const val = w.fork();
    writeAnyValue(w, attrs[key]);
    w.ldelim(val);
    w.ldelim(kv);
  }
}

export function writeResource(w: Writer, field: number, r: Resource): void {
  w.tag(field, LEN);
  const at = w.fork();
  writeAttributes(w, 1, r.attributes);
  if (r.droppedAttributesCount) { w.tag(2, VARINT); w.uint32(r.droppedAttributesCount); }
  w.ldelim(at);
}

export function writeScope(w: Writer, field: number, s: InstrumentationScope): void {
  w.tag(field, LEN);
  const at = w.fork();
  if (s.name) { w.tag(1, LEN); w.string(s.name); }
  if (s.version) { w.tag(2, LEN); w.string(s.version); }
  writeAttributes(w, 3, s.attributes);
  if (s.droppedAttributesCount) { w.tag(4, VARINT); w.uint32(s.droppedAttributesCount); }
  w.ldelim(at);
}

export function writeString(w: Writer, field: number, s: string): void {
  if (s) { w.tag(field, LEN); w.string(s); }
}

export function writeUint32(w: Writer, field: number, v: number): void {
  if (v) { w.tag(field, VARINT); w.uint32(v); }
}

export function writeEnum(w: Writer, field: number, v: number): void {
  if (v) { w.tag(field, VARINT); w.int32(v); }
}

export function writeFixed64(w: Writer, field: number, v: bigint | number): void {
  if (v) { w.tag(field, I64); w.fixed64(v); }
}

export function writeFixed32(w: Writer, field: number, v: number): void {
  if (v) { w.tag(field, I32); w.fixed32(v); }
}

export function writeId(w: Writer, field: number, id: string, size: number, what: string): void {
  if (id) { w.tag(field, LEN); w.hexId(id, size, what); }
}
