/**
 * Label sets and their fingerprints.
 *
 * An alert's identity is its label set. The fingerprint is computed exactly as Prometheus's
 * `model.LabelSet.Fingerprint()` (which Alertmanager puts in the webhook payload): label names sorted
 * bytewise (UTF-8), then FNV-1a 64 over `name 0xFF value 0xFF` for each label, printed as 16 lowercase
 * hex digits. It depends on nothing but the labels, so it is stable across restarts and across
 * processes, and an alert fingerprinted here has the same fingerprint in Prometheus or Alertmanager.
 */

export type Labels = Record<string, string>;

const SEPARATOR = 0xff;
const ASTRAL_OR_HIGH = /[\ud800-\uffff]/;

/** Go's string order (bytewise UTF-8). UTF-16 order agrees with it unless surrogates or U+E000.. are involved. */
export function compareGo(a: string, b: string): number {
  if (ASTRAL_OR_HIGH.test(a) || ASTRAL_OR_HIGH.test(b)) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Label names in Go's `sort.Strings` order, as Prometheus sorts them before hashing. */
export function sortedNames(labels: Labels): string[] {
  return Object.keys(labels).sort(compareGo);
}

/**
 * FNV-1a 64 in four 16-bit limbs (h0 lowest), which is much faster than BigInt arithmetic. The
 * prime is 2^40 + 0x1b3, so h·prime = h·0x1b3 + (h << 40) modulo 2^64.
 */
class Fnv64 {
  h0 = 0x2325; h1 = 0x8422; h2 = 0x9ce4; h3 = 0xcbf2;

  byte(b: number): void {
    this.h0 ^= b;
    let t0 = this.h0 * 0x1b3;
    let t1 = this.h1 * 0x1b3;
    let t2 = this.h2 * 0x1b3 + (this.h0 << 8);
    let t3 = this.h3 * 0x1b3 + (this.h1 << 8);
    t1 += t0 >>> 16; t0 &= 0xffff;
    t2 += t1 >>> 16; t1 &= 0xffff;
    t3 += t2 >>> 16; t2 &= 0xffff;
    this.h0 = t0; this.h1 = t1; this.h2 = t2; this.h3 = t3 & 0xffff;
  }

  string(s: string): void {
    for (const b of Buffer.from(s, 'utf8')) this.byte(b);
  }

  hex(): string {
    return [this.h3, this.h2, this.h1, this.h0].map((x) => x.toString(16).padStart(4, '0')).join('');
  }
}

function hashLabels(labels: Labels): Fnv64 {
  const h = new Fnv64();
  for (const name of sortedNames(labels)) {
    h.string(name);
    h.byte(SEPARATOR);
    h.string(labels[name]);
    h.byte(SEPARATOR);
  }
  return h;
}

/** The fingerprint as a 64-bit unsigned integer. */
export function fingerprintValue(labels: Labels): bigint {
  return BigInt('0x' + hashLabels(labels).hex());
}

/** Prometheus's `Fingerprint.String()`: `%016x`. */
export function fingerprint(labels: Labels): string {
  return hashLabels(labels).hex();
}

/** A copy with own properties only (label names come from the network, `__proto__` included). */
export function copyLabels(labels: Labels): Labels {
  const out: Labels = {};
  for (const k of Object.keys(labels)) setLabel(out, k, labels[k]);
  return out;
}

export function setLabel(labels: Labels, name: string, value: string): void {
  if (name === '__proto__') Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
  else labels[name] = value;
}

/** Labels with sorted keys, for stable output (payloads, API answers, group keys). */
export function sortLabels(labels: Labels): Labels {
  const out: Labels = {};
  for (const k of sortedNames(labels)) setLabel(out, k, labels[k]);
  return out;
}

/** Prometheus drops labels with empty values: an empty value is the same as no label. */
export function dropEmpty(labels: Labels): Labels {
  const out: Labels = {};
  for (const k of Object.keys(labels)) if (labels[k] !== '') setLabel(out, k, labels[k]);
  return out;
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

/** `{a="1", b="2"}` in Prometheus's notation, used for group keys. */
export function formatLabels(labels: Labels): string {
  return '{' + sortedNames(labels).map((k) => `${k}=${JSON.stringify(labels[k])}`).join(', ') + '}';
}

/** Value of a label, '' when absent (Prometheus semantics: absent and empty are the same). */
export function labelValue(labels: Labels, name: string): string {
  return Object.prototype.hasOwnProperty.call(labels, name) ? labels[name] : '';
}
