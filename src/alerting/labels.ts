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

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

/** Label names in Go's `sort.Strings` order (bytewise UTF-8), which differs from JS's UTF-16 sort for astral characters. */
export function sortedNames(labels: Labels): string[] {
  return Object.keys(labels).sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

function addBytes(h: bigint, bytes: Uint8Array): bigint {
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK64;
  return h;
}

function addByte(h: bigint, b: number): bigint {
  return ((h ^ BigInt(b)) * FNV_PRIME) & MASK64;
}

/** The fingerprint as a 64-bit unsigned integer. */
export function fingerprintValue(labels: Labels): bigint {
  let h = FNV_OFFSET;
  for (const name of sortedNames(labels)) {
    h = addBytes(h, Buffer.from(name, 'utf8'));
    h = addByte(h, SEPARATOR);
    h = addBytes(h, Buffer.from(labels[name], 'utf8'));
    h = addByte(h, SEPARATOR);
  }
  return h;
}

/** Prometheus's `Fingerprint.String()`: `%016x`. */
export function fingerprint(labels: Labels): string {
  return fingerprintValue(labels).toString(16).padStart(16, '0');
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
