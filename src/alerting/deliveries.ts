/**
 * Recent notification deliveries per channel (one channel = one notification exporter: webhook,
 * email, github, sentry, alertmanager), with their outcome, for the console's Alerts page and
 * `GET /api/alerts/notifications`.
 *
 * The stored `alert.notification` log records say that a notification was made, not whether a
 * channel got it: delivery happens later, in each exporter, with retries. So each notification
 * exporter keeps a small ring of its latest deliveries in memory (bounded: RING_SIZE per channel),
 * updated at every attempt: `sending` → `sent`, or `retrying` (with the error) → `sent` or
 * `failed` (refused permanently, retries exhausted or dropped at shutdown). It is lost on restart,
 * as Alertmanager's own notification log of outcomes would be without its data dir; the stored
 * records remain the history of what was notified.
 *
 * The rings are found through the API server the exporters run with (one per collector), so two
 * collectors in one process (tests) never see each other's deliveries.
 */
import { ApiError, type ApiServer } from '../api';
import type { Notification } from './notification';

export type DeliveryState = 'sending' | 'sent' | 'retrying' | 'failed';

export interface Delivery {
  /** When the first attempt started / the last attempt ended (ms since the epoch). */
  firstAttemptMs: number;
  lastAttemptMs: number;
  attempts: number;
  state: DeliveryState;
  /** The last error (cut to ERROR_LIMIT characters); absent once sent. */
  error?: string;
  receiver: string;
  groupKey: string;
  /** The notification's status: firing or resolved. */
  status: string;
  /** `alertname` of the group (its group labels, else the labels all its alerts share). */
  alertname: string;
  alerts: number;
  escalationStep?: number;
}

export const RING_SIZE = 100;
const ERROR_LIMIT = 500;

/** The latest deliveries of one channel, oldest dropped first. */
export class DeliveryRing {
  private readonly byKey = new Map<string, Delivery>();

  constructor(readonly channel: string, readonly type: string, private readonly size = RING_SIZE) {}

  /** An attempt starts. The key is the same on every retry of one notification. */
  attempt(key: string, n: Notification, nowMs = Date.now()): void {
    let d = this.byKey.get(key);
    if (!d) {
      const alertname = n.payload.groupLabels?.alertname ?? n.payload.commonLabels?.alertname ?? '';
      d = { firstAttemptMs: nowMs, lastAttemptMs: nowMs, attempts: 0, state: 'sending', receiver: n.receiver, groupKey: n.groupKey, status: n.status, alertname, alerts: n.payload.alerts.length };
      if (n.escalationStep !== undefined) d.escalationStep = n.escalationStep;
      this.byKey.set(key, d);
      while (this.byKey.size > this.size) this.byKey.delete(this.byKey.keys().next().value as string);
    }
    d.attempts++;
    d.lastAttemptMs = nowMs;
    if (d.state !== 'retrying') d.state = 'sending';
  }

  /** The attempt ended: `ok`, or an error that will be retried (`final` false) or not. */
  outcome(key: string, err: Error | undefined, final: boolean, nowMs = Date.now()): void {
    const d = this.byKey.get(key);
    if (!d) return;
    d.lastAttemptMs = nowMs;
    if (!err) {
      d.state = 'sent';
      delete d.error;
      return;
    }
    d.state = final ? 'failed' : 'retrying';
    d.error = err.message.length > ERROR_LIMIT ? `${err.message.slice(0, ERROR_LIMIT)}…` : err.message;
  }

  /** Newest first. */
  list(limit = this.size): Delivery[] {
    return [...this.byKey.values()].reverse().slice(0, limit).map((d) => ({ ...d }));
  }
}

const channelsByApi = new WeakMap<ApiServer, Map<string, DeliveryRing>>();

/** The channels known to this API server; registers `GET /api/alerts/notifications` on first use. */
export function deliveryChannels(api: ApiServer): Map<string, DeliveryRing> {
  let channels = channelsByApi.get(api);
  if (channels) return channels;
  const known = new Map<string, DeliveryRing>();
  channelsByApi.set(api, known);
  api.route('GET', '/api/alerts/notifications', (req) => {
    const raw = req.query.get('limit');
    const limit = raw === null ? 20 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > RING_SIZE) throw new ApiError(400, `limit must be an integer from 1 to ${RING_SIZE}`);
    return {
      channels: [...known.values()]
        .sort((a, b) => a.channel.localeCompare(b.channel))
        .map((r) => ({ channel: r.channel, type: r.type, deliveries: r.list(limit).map(toJson) })),
    };
  });
  channels = known;
  return channels;
}

function toJson({ firstAttemptMs, lastAttemptMs, ...rest }: Delivery) {
  return { firstAttempt: new Date(firstAttemptMs).toISOString(), lastAttempt: new Date(lastAttemptMs).toISOString(), ...rest };
}
