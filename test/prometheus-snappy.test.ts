import t from 'tap';
import { randomBytes } from 'node:crypto';
import { SnappyError, maxCompressedLength, snappyCompress, snappyDecompress } from '../src/prometheus/snappy';

t.test('decodes hand-made blocks of each element kind', async (t) => {
  // "abcd" as a literal, then a 1-byte-offset copy (offset 4, length 8), then a 2-byte-offset copy (offset 12, length 2).
  const block = Uint8Array.from([14, 3 << 2, 97, 98, 99, 100, 1 | ((8 - 4) << 2), 4, 2 | ((2 - 1) << 2), 12, 0]);
  t.equal(Buffer.from(snappyDecompress(block)).toString(), 'abcdabcdabcdab');
  // A 4-byte-offset copy and an overlapping run: "x" then copy offset 1 length 5.
  const run = Uint8Array.from([6, 0, 120, 3 | ((5 - 1) << 2), 1, 0, 0, 0]);
  t.equal(Buffer.from(snappyDecompress(run)).toString(), 'xxxxxx');
  // A literal whose length needs an extra byte (tag 60): 100 bytes.
  const lit = new Uint8Array(3 + 100);
  lit[0] = 100;
  lit[1] = 60 << 2;
  lit[2] = 99;
  lit.fill(65, 3);
  t.equal(Buffer.from(snappyDecompress(lit)).toString(), 'A'.repeat(100));
});

t.test('round trips every kind of input across block boundaries', async (t) => {
  const inputs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.from([7])],
    ['random 70k', randomBytes(70_000)],
    ['zeros 200k', new Uint8Array(200_000)],
    ['exposition text', Buffer.from('http_requests_total{method="GET",code="200"} 1027\n'.repeat(5000))],
  ];
  for (const [name, input] of inputs) {
    const c = snappyCompress(input);
    t.ok(c.length <= maxCompressedLength(input.length), `${name}: within the bound`);
    t.same(Buffer.from(snappyDecompress(c)), Buffer.from(input), `${name}: round trip`);
  }
  const text = inputs[4][1];
  t.ok(snappyCompress(text).length < text.length / 10, 'repetitive text compresses well');
});

t.test('rejects malformed and oversized input', async (t) => {
  t.throws(() => snappyDecompress(Uint8Array.from([5, 0, 65])), SnappyError, 'shorter than the header says');
  t.throws(() => snappyDecompress(Uint8Array.from([4, 1 | (0 << 2), 9])), SnappyError, 'copy before any output');
  t.throws(() => snappyDecompress(Uint8Array.from([2, 8, 65])), SnappyError, 'literal running past the end');
  t.throws(() => snappyDecompress(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 1 << 20), SnappyError, 'a 4 GiB claim is refused before allocating');
  t.throws(() => snappyDecompress(Uint8Array.from([0x80])), SnappyError, 'truncated length');
});
