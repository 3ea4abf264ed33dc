/**
 * Bounds on what decoding one request may build. A protobuf body of 20 MB can describe ten million
 * empty messages (`0a 00` repeated), each of which becomes objects in memory; without a bound, one
 * such request stalls the event loop for seconds and takes gigabytes. The decoders charge this
 * budget as they go, so a request over it is stopped after at most the budget's worth of work:
 *
 * - items (resource and scope entries, spans, events, links, metrics, data points, exemplars,
 *   log records): more than `maxItems` refuses the whole request with a LimitError (413);
 * - attributes of one item (span, point, log record, resource, ...): those past
 *   `maxAttributesPerItem` are skipped without being decoded and counted in the item's
 *   droppedAttributesCount, as an OTel SDK does with its attribute limit; so is one attribute whose
 *   value nests more than that many array or kvlist elements;
 * - all values in the request (attributes, nested elements, packed numbers): more than
 *   VALUES_PER_ITEM × maxItems refuses the request.
 *
 * Decoding is synchronous, so the budget of the request being decoded lives in this module;
 * decoding without limits (exporters reading their own queue, tests) leaves it unbounded.
 */
import { DecodeError } from './errors';

export interface DecodeLimits {
  maxItems: number;
  maxAttributesPerItem: number;
}

/** Values (attributes and their elements, packed numbers) allowed per item of the item budget. */
export const VALUES_PER_ITEM = 10;

/** A request over a decode limit: it can never be accepted as it is (HTTP 413, not retryable). */
export class LimitError extends DecodeError {
  readonly tooLarge = true;
}

/** Thrown inside one attribute's value when it holds too many elements; caught by readAttribute. */
export class WideValue extends Error {}

interface Budget {
  items: number;
  values: number;
  maxItems: number;
  maxAttributes: number;
  /** Elements the attribute being decoded may still nest. */
  nested: number;
  droppedAttributes: number;
}

const UNBOUNDED: Budget = { items: Infinity, values: Infinity, maxItems: Infinity, maxAttributes: Infinity, nested: Infinity, droppedAttributes: 0 };
export let budget: Budget = { ...UNBOUNDED };

/** Runs `decode` under `limits`; also returns how many attributes were dropped over the per-item cap. */
export function decodeWithin<T>(limits: DecodeLimits | undefined, decode: () => T): { value: T; droppedAttributes: number } {
  if (!limits) return { value: decode(), droppedAttributes: 0 };
  const saved = budget;
  budget = {
    items: limits.maxItems,
    values: VALUES_PER_ITEM * limits.maxItems,
    maxItems: limits.maxItems,
    maxAttributes: limits.maxAttributesPerItem,
    nested: Infinity,
    droppedAttributes: 0,
  };
  try {
    const value = decode();
    return { value, droppedAttributes: budget.droppedAttributes };
  } finally {
    budget = saved;
  }
}

/** Charges one item (a message of the request's item tree). */
export function chargeItem(): void {
  if (--budget.items < 0) throw new LimitError(`the request holds more than ${budget.maxItems} items (spans, points, log records, events, links and their resource and scope entries); send it in smaller requests`);
}

/** Charges `n` values (attributes, nested elements, packed numbers). */
export function chargeValues(n: number): void {
  budget.values -= n;
  if (budget.values < 0) throw new LimitError(`the request holds more than ${VALUES_PER_ITEM * budget.maxItems} attribute values; send it in smaller requests`);
}

/** Charges one element nested in an attribute's value. */
export function chargeNested(): void {
  chargeValues(1);
  if (--budget.nested < 0) throw new WideValue();
}
