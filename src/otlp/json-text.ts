/**
 * One pass over OTLP/JSON text before JSON.parse, for two things JSON.parse cannot do:
 *
 * - Exact 64-bit integers. OTLP/JSON writes int64 and fixed64 fields (intValue, timeUnixNano,
 *   counts) as strings, but some senders write bare numbers, and JSON.parse rounds any number past
 *   2^53 to a double before anything else sees it (a reviver gets the rounded value; Node 20's
 *   JSON.parse does not pass the source text). So integer literals that are not safe integers are
 *   put in quotes here, and the readers, which take 64-bit integers (and doubles) as decimal
 *   strings too, read them exactly. Strings are skipped over, so text inside them is never touched.
 * - A bound on the objects JSON.parse would build: 20 MB of `{},` is seven million objects. The
 *   pass counts `{` outside strings and refuses the body (LimitError, 413) past `maxObjects`,
 *   before any of them exists.
 */
import { LimitError } from './limits';

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;

function isNumberChar(c: number): boolean {
  // digits, '.', 'e', 'E', '+', '-'
  return (c >= ZERO && c <= NINE) || c === 46 || c === 101 || c === 69 || c === 43 || c === MINUS;
}

const INTEGER = /^-?\d+$/;

export function prepareJsonText(text: string, maxObjects = Infinity): string {
  let objects = 0;
  let parts: string[] | undefined;
  let copied = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string; an unterminated one runs to the end and JSON.parse reports it.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === QUOTE) break;
        i += d === BACKSLASH ? 2 : 1;
      }
    } else if (c === OPEN_BRACE) {
      if (++objects > maxObjects) throw new LimitError(`the JSON body holds more than ${maxObjects} objects; send it in smaller requests`);
    } else if ((c >= ZERO && c <= NINE) || c === MINUS) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      // Only long literals can be unsafe integers; the common short numbers cost nothing more.
      if (j - i > 15) {
        const literal = text.slice(i, j);
        if (INTEGER.test(literal) && !Number.isSafeInteger(Number(literal))) {
          (parts ??= []).push(text.slice(copied, i), '"', literal, '"');
          copied = j;
        }
      }
      i = j - 1;
    }
  }
  if (!parts) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}
