import type * as SentryNode from '@sentry/node';
import { lazy } from '../../src/util/lazy';

/** @sentry/node, loaded when a sentry exporter is first created (it is large). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const sentry = lazy(() => require('@sentry/node') as typeof SentryNode);
export type { SentryNode };
