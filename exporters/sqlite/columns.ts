/**
 * Row layouts shared by the mapping (rows.ts, main thread) and the writer (worker.ts). Kept apart
 * from rows.ts so that the worker does not load the data model.
 */
/** attributes JSON, dropped count, schema url, service.name */
export const RESOURCE_COLS = 4;
/** name, version, attributes JSON, dropped count, schema url */
export const SCOPE_COLS = 5;
/**
 * resource idx, scope idx, trace_id, span_id, parent_span_id, trace_state, flags, name, kind,
 * start, end, status_code, status_message, attributes, dropped attrs, events, dropped events,
 * links, dropped links
 */
export const SPAN_COLS = 19;
/**
 * resource idx, scope idx, ts, time, observed time, severity number, severity text, body type,
 * body, attributes, dropped attrs, flags, trace_id, span_id, event_name
 */
export const LOG_COLS = 15;
/** resource idx, scope idx, name, description, unit, type, temporality, monotonic, metadata */
export const METRIC_COLS = 9;
/** metric idx, attributes, start, time, value, flags, exemplars */
export const NUMBER_COLS = 7;
/** metric idx, attributes, start, time, count, sum, min, max, bucket counts, explicit bounds, flags, exemplars */
export const HISTOGRAM_COLS = 12;
/**
 * metric idx, attributes, start, time, count, sum, min, max, scale, zero count, zero threshold,
 * positive offset, positive counts, negative offset, negative counts, flags, exemplars
 */
export const EXP_HISTOGRAM_COLS = 17;
/** metric idx, attributes, start, time, count, sum, quantile values, flags */
export const SUMMARY_COLS = 8;
