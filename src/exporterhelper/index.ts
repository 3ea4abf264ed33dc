export * from './config';
export * from './exporter';
export { Backoff } from './backoff';
export { ITEM_NAMES } from './metrics';
