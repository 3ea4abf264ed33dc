/**
 * Snappy block format (not the framed stream format), as Prometheus remote write requires:
 * a varint of the uncompressed length, then literals and back-references ("copies").
 * https://github.com/google/snappy/blob/main/format_description.txt
 *
 * The compressor is the classic greedy one: 64 KiB blocks compressed independently (so every
 * offset fits in two bytes), a hash table of 4-byte sequences to find matches, and a skip that
 * grows over incompressible input so it stays fast on random data.
 */

const BLOCK = 1 << 16;
const HASH_BITS = 14;
const INPUT_MARGIN = 15;

export function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

const load32 = (b: Uint8Array, i: number): number => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
const hash32 = (x: number): number => Math.imul(x, 0x1e35a7bd) >>> (32 - HASH_BITS);

class Out {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  literal(src: Uint8Array, from: number, to: number): void {
    const len = to - from;
    if (len === 0) return;
    const n = len - 1;
    if (n < 60) {
      this.buf[this.pos++] = n << 2;
    } else {
      const bytes = n < 1 << 8 ? 1 : n < 1 << 16 ? 2 : n < 1 << 24 ? 3 : 4;
      this.buf[this.pos++] = (59 + bytes) << 2;
      for (let i = 0; i < bytes; i++) this.buf[this.pos++] = (n >>> (8 * i)) & 0xff;
    }
    this.buf.set(src.subarray(from, to), this.pos);
    this.pos += len;
  }

  /** One back-reference, split so that every piece is encodable (a copy carries at most 64 bytes). */
  copy(offset: number, len: number): void {
    while (len >= 68) {
      this.copy2(offset, 64);
      len -= 64;
    }
    if (len > 64) {
      // Leave at least 4 for the last piece, the shortest a 1-byte-offset copy can carry.
      this.copy2(offset, 60);
      len -= 60;
    }
    if (len >= 12 || offset >= 2048) this.copy2(offset, len);
    else {
      this.buf[this.pos++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
      this.buf[this.pos++] = offset & 0xff;
    }
  }

  private copy2(offset: number, len: number): void {
    this.buf[this.pos++] = 2 | ((len - 1) << 2);
    this.buf[this.pos++] = offset & 0xff;
    this.buf[this.pos++] = (offset >>> 8) & 0xff;
  }
}

function compressBlock(src: Uint8Array, start: number, end: number, out: Out, table: Int32Array): void {
  if (end - start < INPUT_MARGIN) {
    out.literal(src, start, end);
    return;
  }
  table.fill(-1);
  const limit = end - INPUT_MARGIN;
  let nextEmit = start;
  let ip = start;
  let skip = 32;
  while (ip < limit) {
    const cur = load32(src, ip);
    const h = hash32(cur);
    const cand = table[h];
    table[h] = ip;
    if (cand < 0 || load32(src, cand) !== cur) {
      // After 32 misses in a row the step grows by one byte, and so on: incompressible input is skimmed.
      ip += skip++ >> 5;
      continue;
    }
    skip = 32;
    out.literal(src, nextEmit, ip);
    let len = 4;
    while (ip + len < end && src[cand + len] === src[ip + len]) len++;
    out.copy(ip - cand, len);
    ip += len;
    nextEmit = ip;
    // Index the position just before the new one so runs keep matching.
    if (ip - 1 < limit) table[hash32(load32(src, ip - 1))] = ip - 1;
  }
  out.literal(src, nextEmit, end);
}

export function snappyCompress(src: Uint8Array): Uint8Array {
  const out = new Out(new Uint8Array(maxCompressedLength(src.length)));
  out.varint(src.length);
  const table = new Int32Array(1 << HASH_BITS);
  for (let start = 0; start < src.length; start += BLOCK) {
    compressBlock(src, start, Math.min(start + BLOCK, src.length), out, table);
  }
  return out.buf.subarray(0, out.pos);
}

export class SnappyError extends Error {
  override readonly name = 'SnappyError';
}

/** Decompresses a snappy block; `maxLength` bounds the memory a hostile length header can claim. */
export function snappyDecompress(src: Uint8Array, maxLength = 64 << 20): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= src.length || shift > 28) throw new SnappyError('snappy: bad length header');
    const b = src[pos++];
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (length > maxLength) throw new SnappyError(`snappy: decoded length ${length} exceeds the limit ${maxLength}`);
  const dst = new Uint8Array(length);
  let d = 0;
  while (pos < src.length) {
    const tag = src[pos++];
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const bytes = len - 59;
        if (pos + bytes > src.length) throw new SnappyError('snappy: truncated literal length');
        len = 0;
        for (let i = 0; i < bytes; i++) len += src[pos++] * 2 ** (8 * i);
      }
      len += 1;
      if (pos + len > src.length || d + len > length) throw new SnappyError('snappy: literal out of bounds');
      dst.set(src.subarray(pos, pos + len), d);
      pos += len;
      d += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= src.length) throw new SnappyError('snappy: truncated copy');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[pos++];
    } else if (kind === 2) {
      if (pos + 2 > src.length) throw new SnappyError('snappy: truncated copy');
      len = (tag >>> 2) + 1;
      offset = src[pos] | (src[pos + 1] << 8);
      pos += 2;
    } else {
      if (pos + 4 > src.length) throw new SnappyError('snappy: truncated copy');
      len = (tag >>> 2) + 1;
      offset = (src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16)) + src[pos + 3] * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > d || d + len > length) throw new SnappyError('snappy: copy out of bounds');
    if (offset >= len) {
      dst.copyWithin(d, d - offset, d - offset + len);
      d += len;
    } else {
      // Overlapping copy: repeats the last `offset` bytes, so it must go byte by byte.
      for (let i = 0; i < len; i++, d++) dst[d] = dst[d - offset];
    }
  }
  if (d !== length) throw new SnappyError(`snappy: decoded ${d} bytes, header said ${length}`);
  return dst;
}
