/** The receiver's decode limits (config → src/otlp/limits.ts) and how dropped attributes are reported. */
import type { DecodeLimits } from '../../src/otlp';

export function decodeLimitsOf(cfg: { max_items_per_request?: number; max_attributes_per_item?: number }): DecodeLimits {
  return { maxItems: cfg.max_items_per_request ?? 100_000, maxAttributesPerItem: cfg.max_attributes_per_item ?? 1024 };
}

/** A partial-success warning (nothing rejected) telling the sender its attributes were cut. */
export function droppedAttributesNote(dropped: number, max: number): string {
  return dropped ? `${dropped} attribute(s) dropped: at most ${max} per item are kept (max_attributes_per_item)` : '';
}

/**
 * Memory a body takes once decoded, for asking the memory limiter before decoding. Measured: a
 * protobuf traces request of 5.4 MB (20,000 spans, 10 attributes each) holds 3 × its size as model
 * objects; OTLP/JSON is read as text (the body twice: bytes and string) plus the model.
 */
export function decodeEstimate(bodyBytes: number, json: boolean): number {
  return (json ? 2 : 3) * bodyBytes;
}
