/**
 * A minimal protobuf wire reader over a Buffer, specialised for what OTLP uses. Decoders pass the
 * end offset of the message they are in; primitive reads do not check it (the loops do, once per
 * field), only length-delimited reads check their length against it, so a lying length can never
 * make a nested message run past its parent.
 */
import { DecodeError } from './errors';

// Buffer's own slicers skip toString()'s encoding lookup and argument checks; they exist at
// runtime but are not in @types/node.
interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
}

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_SGROUP = 3;
export const WIRE_EGROUP = 4;
export const WIRE_I32 = 5;

const TWO_32 = 4294967296;

// Bounded: at most KEY_CACHE_SIZE entries of at most KEY_CACHE_MAX_LEN bytes, whatever the input.
const KEY_CACHE_SIZE = 2048;
const KEY_CACHE_MAX_LEN = 64;
const keyCacheBytes: (Uint8Array | undefined)[] = new Array(KEY_CACHE_SIZE).fill(undefined);
const keyCacheStrings: string[] = new Array(KEY_CACHE_SIZE).fill('');

/** An int64 as the model holds it: a number when it is a safe integer, else a bigint. */
export function int64FromParts(lo: number, hi: number): number | bigint {
  // hi is signed here; within ±2^21 the combined value fits a double exactly.
  if (hi >= -0x200000 && hi < 0x200000) {
    const v = hi * TWO_32 + lo;
    if (v !== -9007199254740992) return v;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export class Reader {
  readonly buf: FastBuffer;
  /** For 64-bit reads: V8's DataView#getBigUint64 is much cheaper than assembling a bigint from two words. */
  private readonly view: DataView;
  pos = 0;
  /** Scratch for the high word of 64-bit varints. */
  private hi = 0;

  constructor(input: Uint8Array) {
    this.buf = (Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength)) as FastBuffer;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** An unsigned varint of up to 32 bits; longer varints (negative int32, 64-bit) keep their low 32 bits. */
  varint32(): number {
    const buf = this.buf;
    let p = this.pos;
    let b = buf[p++];
    let v = b & 0x7f;
    if (b < 0x80) { this.pos = p; return v; }
    b = buf[p++]; v |= (b & 0x7f) << 7;
    if (b < 0x80) { this.pos = p; return v; }
    b = buf[p++]; v |= (b & 0x7f) << 14;
    if (b < 0x80) { this.pos = p; return v; }
    b = buf[p++]; v |= (b & 0x7f) << 21;
    if (b < 0x80) { this.pos = p; return v; }
    b = buf[p++]; v |= (b & 0x0f) << 28;
    if (b < 0x80) { this.pos = p; return v >>> 0; }
    for (let i = 0; i < 5; i++) {
      if (buf[p++] < 0x80) { this.pos = p; return v >>> 0; }
    }
    throw this.badVarint(p);
  }

  private badVarint(p: number): DecodeError {
    return new DecodeError(p > this.buf.length ? 'truncated message' : 'malformed varint (more than 10 bytes)');
  }

  /** A 64-bit varint: returns the low 32 bits (unsigned) and leaves the high 32 bits in `this.hi`. */
  private varint64(): number {
    const buf = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      b = buf[p++];
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) { this.pos = p; this.hi = 0; return lo >>> 0; }
    }
    b = buf[p++];
    lo |= (b & 0x7f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b < 0x80) { this.pos = p; this.hi = hi; return lo >>> 0; }
    for (let shift = 3; shift < 35; shift += 7) {
      b = buf[p++];
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) { this.pos = p; this.hi = hi >>> 0; return lo >>> 0; }
    }
    throw this.badVarint(p);
  }

  /** int64 (two's complement varint). */
  int64(): number | bigint {
    const lo = this.varint64();
    return int64FromParts(lo, this.hi | 0);
  }

  /** uint64 as a number (counts; exact up to 2^53). */
  uint64Number(): number {
    const lo = this.varint64();
    return this.hi * TWO_32 + lo;
  }

  /** A varint read as a boolean (any non-zero bit set is true). */
  bool(): boolean {
    const lo = this.varint64();
    return lo !== 0 || this.hi !== 0;
  }

  /** sint32 (zigzag). */
  sint32(): number {
    const v = this.varint32();
    return (v >>> 1) ^ -(v & 1);
  }

  private need(n: number): number {
    const p = this.pos;
    if (p + n > this.buf.length) throw new DecodeError('truncated message');
    this.pos = p + n;
    return p;
  }

  fixed32(): number {
    const p = this.need(4);
    const buf = this.buf;
    return (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)) + buf[p + 3] * 0x1000000;
  }

  /** fixed64 exactly, as a bigint (timestamps). */
  fixed64(): bigint {
    return this.view.getBigUint64(this.need(8), true);
  }

  /** fixed64 as a number (counts; exact up to 2^53). */
  fixed64Number(): number {
    const p = this.need(8);
    const buf = this.buf;
    const lo = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)) + buf[p + 3] * 0x1000000;
    const hi = (buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16)) + buf[p + 7] * 0x1000000;
    return hi * TWO_32 + lo;
  }

  sfixed64(): number | bigint {
    const p = this.need(8);
    const buf = this.buf;
    const lo = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)) + buf[p + 3] * 0x1000000;
    const hi = buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24);
    return int64FromParts(lo, hi);
  }

  double(): number {
    return this.view.getFloat64(this.need(8), true);
  }

  /** Reads a length prefix and returns the end offset of the field it announces. */
  lengthEnd(end: number): number {
    const len = this.varint32();
    const e = this.pos + len;
    if (e > end) throw new DecodeError(`truncated message (field length ${len} exceeds the ${end - this.pos} bytes left)`);
    return e;
  }

  string(end: number): string {
    const e = this.lengthEnd(end);
    const p = this.pos;
    this.pos = e;
    // Invalid UTF-8 becomes U+FFFD, as the decoders are allowed to do.
    return this.buf.utf8Slice(p, e);
  }

  /**
   * An attribute key. Keys repeat in every span, so they come from a small cache keyed by their
   * bytes: that skips decoding and, more importantly, hands V8 the same (already internalized)
   * string each time, which makes adding it as a property much cheaper.
   */
  key(end: number): string {
    const e = this.lengthEnd(end);
    const p = this.pos;
    this.pos = e;
    const n = e - p;
    if (n === 0) return '';
    if (n > KEY_CACHE_MAX_LEN) return this.buf.utf8Slice(p, e);
    const buf = this.buf;
    // A sparse hash (length, first, middle and last byte) is enough to spread real keys and
    // costs far less than hashing every byte; the full comparison below decides.
    const h = Math.imul(((n * 31 + buf[p]) * 31 + buf[e - 1]) * 31 + buf[p + (n >> 1)], 0x9e3779b1);
    const slot = (h >>> 21) & (KEY_CACHE_SIZE - 1);
    const cached = keyCacheBytes[slot];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached[i] === buf[p + i]) i++;
      if (i === n) return keyCacheStrings[slot];
    }
    const s = buf.utf8Slice(p, e);
    keyCacheBytes[slot] = new Uint8Array(buf.subarray(p, e));
    keyCacheStrings[slot] = s;
    return s;
  }

  /** A copy, so the decoded data does not keep the whole request buffer alive. */
  bytes(end: number): Uint8Array {
    const e = this.lengthEnd(end);
    const p = this.pos;
    this.pos = e;
    return new Uint8Array(this.buf.subarray(p, e));
  }

  /** A trace id (16) or span id (8) as lowercase hex; "" when empty. */
  id(end: number, size: number, field: string): string {
    const e = this.lengthEnd(end);
    const p = this.pos;
    this.pos = e;
    const n = e - p;
    if (n === size) return this.buf.hexSlice(p, e);
    if (n === 0) return '';
    throw new DecodeError(`expected ${size} bytes, got ${n}`, field);
  }

  /** Checks that a message ended exactly where its length said. */
  finish(end: number): void {
    if (this.pos !== end) throw new DecodeError('truncated message');
  }

  /**
   * Skips a field the model does not keep. `names` lists the message's known fields by number:
   * a known field with the wrong wire type is a sender bug that would silently lose data, so it
   * is reported instead of skipped.
   */
  skip(tag: number, end: number, names: readonly (string | undefined)[]): void {
    const wire = tag & 7;
    const field = tag >>> 3;
    if (field === 0) throw new DecodeError('invalid field number 0');
    if (wire > WIRE_I32) throw new DecodeError(`invalid wire type ${wire} (field ${field})`);
    const known = names[field];
    if (known !== undefined) throw new DecodeError(`unexpected wire type ${wire}`, known);
    this.skipValue(wire, field, end);
  }

  private skipValue(wire: number, field: number, end: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_I64:
        this.need(8);
        return;
      case WIRE_LEN:
        this.pos = this.lengthEnd(end);
        return;
      case WIRE_I32:
        this.need(4);
        return;
      case WIRE_SGROUP: {
        // Groups are proto2-only, but an unknown group is still legal to skip.
        for (;;) {
          if (this.pos >= end) throw new DecodeError('truncated message (unterminated group)');
          const tag = this.varint32();
          if ((tag & 7) === WIRE_EGROUP) {
            if (tag >>> 3 !== field) throw new DecodeError('mismatched end-group tag');
            return;
          }
          this.skipValue(tag & 7, tag >>> 3, end);
        }
      }
      default:
        throw new DecodeError(`invalid wire type ${wire} (field ${field})`);
    }
  }
}
