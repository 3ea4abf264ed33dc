/**
 * A protobuf wire writer into one growing Buffer. Nested messages reserve one length byte and
 * are shifted in place when their body turns out to need a longer varint, which costs a short
 * copy only for messages of 128 bytes or more and keeps the output canonical.
 */

interface FastBuffer extends Buffer {
  utf8Write(s: string, offset: number): number;
  hexWrite(s: string, offset: number, length: number): number;
}

const TWO_32 = 4294967296;
const MASK_64 = (1n << 64n) - 1n;
const scratch = new DataView(new ArrayBuffer(8));

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

export class Writer {
  buf: FastBuffer;
  pos = 0;

  constructor(initialSize = 4096) {
    this.buf = Buffer.allocUnsafe(initialSize) as FastBuffer;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size) as FastBuffer;
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Unsigned 32-bit varint. */
  uint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let p = this.pos;
    v >>>= 0;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  tag(field: number, wire: number): void {
    this.uint32((field << 3) | wire);
  }

  /** int32 / enum: negatives are sign-extended to ten bytes, as protobuf requires. */
  int32(v: number): void {
    if (v >= 0) this.uint32(v);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  sint32(v: number): void {
    this.uint32(((v << 1) ^ (v >> 31)) >>> 0);
  }

  private varint64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let p = this.pos;
    while (hi !== 0 || lo > 0x7f) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[p++] = lo;
    this.pos = p;
  }

  /** int64 from a number (integral) or bigint, two's complement. */
  int64(v: number | bigint): void {
    const [lo, hi] = split64(v);
    this.varint64(lo, hi);
  }

  /** uint64 from a non-negative number. */
  uint64(v: number): void {
    this.varint64(v % TWO_32 >>> 0, Math.floor(v / TWO_32) >>> 0);
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** fixed64 / sfixed64 from a number or bigint (two's complement for negatives). */
  fixed64(v: number | bigint): void {
    const [lo, hi] = split64(v);
    this.ensure(8);
    this.buf.writeUInt32LE(lo, this.pos);
    this.buf.writeUInt32LE(hi, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    scratch.setFloat64(0, v, true);
    const buf = this.buf;
    for (let i = 0; i < 8; i++) buf[this.pos + i] = scratch.getUint8(i);
    this.pos += 8;
  }

  string(s: string): void {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    const max = s.length * 3;
    if (max < 0x80) {
      this.ensure(1 + max);
      const start = this.pos++;
      const n = this.buf.utf8Write(s, this.pos);
      this.buf[start] = n;
      this.pos += n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.uint32(n);
    this.ensure(n);
    this.pos += this.buf.utf8Write(s, this.pos);
  }

  bytes(b: Uint8Array): void {
    this.uint32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Writes a hex id as `size` bytes; throws on anything but exactly 2*size hex digits. */
  hexId(id: string, size: number, what: string): void {
    if (id.length !== size * 2) throw new Error(`invalid ${what} "${id.slice(0, 40)}": expected ${size * 2} hex digits`);
    this.uint32(size);
    this.ensure(size);
    const n = this.buf.hexWrite(id, this.pos, size);
    if (n !== size) throw new Error(`invalid ${what} "${id.slice(0, 40)}": not hex`);
    this.pos += size;
  }

  /** Starts a length-delimited field body; pass the result to `ldelim`. */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  ldelim(start: number): void {
    const len = this.pos - start - 1;
    const extra = varintSize(len) - 1;
    if (extra > 0) {
      this.ensure(extra);
      this.buf.copyWithin(start + 1 + extra, start + 1, this.pos);
      this.pos += extra;
    }
    let p = start;
    let v = len;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** Low and high 32-bit words (both unsigned) of a 64-bit two's complement integer. */
export function split64(v: number | bigint): [number, number] {
  if (typeof v === 'number') {
    if (v >= 0 && v < TWO_32) return [v >>> 0, 0];
    if (Number.isSafeInteger(v)) {
      const abs = Math.abs(v);
      let lo = abs % TWO_32 >>> 0;
      let hi = Math.floor(abs / TWO_32) >>> 0;
      if (v < 0) {
        // Two's complement negate across both words.
        lo = ~lo >>> 0;
        hi = ~hi >>> 0;
        lo = (lo + 1) >>> 0;
        if (lo === 0) hi = (hi + 1) >>> 0;
      }
      return [lo, hi];
    }
    v = BigInt(Math.trunc(Number.isFinite(v) ? v : 0));
  }
  const u = v & MASK_64;
  return [Number(u & 0xffffffffn), Number(u >> 32n)];
}
