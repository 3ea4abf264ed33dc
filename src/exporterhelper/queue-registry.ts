/**
 * Persistent queues currently open in this process, for the health check: depth, bytes on disk and
 * age of the oldest request of each.
 */
export interface QueueReport {
  exporter: string;
  storage: string;
  requests: number;
  bytes: number;
  max_bytes: number;
  oldest_age_seconds: number;
  full_policy: string;
}

const open = new Map<object, () => QueueReport>();

export function registerQueue(key: object, report: () => QueueReport): void {
  open.set(key, report);
}

export function unregisterQueue(key: object): void {
  open.delete(key);
}

export function persistentQueueReports(): QueueReport[] {
  return [...open.values()].map((r) => r());
}
