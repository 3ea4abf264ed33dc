/**
 * The alerting routes of Vigil's HTTP API (the `api` extension):
 *
 *   GET    /api/alerts[?state=pending|firing|resolved][&filter=<matcher>...]  alerts with state, fingerprint, labels, since
 *   GET    /api/alerts/groups                                                  aggregation groups
 *   GET    /api/alerts/notifications[?limit=N]                                 recent deliveries per channel (./deliveries.ts)
 *   POST   /api/alerts/:fingerprint/ack   {"by": "...", "comment": "..."}     acknowledge (stops escalation)
 *   GET    /api/silences                                                       silences
 *   POST   /api/silences                  Alertmanager postableSilence        create (or update with "id") → {"silenceID"}
 *   GET    /api/silences/:id
 *   DELETE /api/silences/:id                                                   expire
 *
 * and Alertmanager's API v2 (./amapi.ts), so Prometheus and amtool work against Vigil as against
 * Alertmanager.
 */
import { ApiError, ApiRequest, ApiServer } from '../api';
import type { Alerting, AlertState } from './alerting';
import { registerAlertmanagerApi } from './amapi';
import { deliveryChannels } from './deliveries';
import { Matcher, parseMatchers } from './matchers';

function filters(req: ApiRequest): { state?: AlertState; matchers?: Matcher[] } {
  const state = req.query.get('state') ?? undefined;
  if (state !== undefined && !['pending', 'firing', 'resolved'].includes(state)) throw new ApiError(400, 'state must be pending, firing or resolved');
  const raw = req.query.getAll('filter');
  let matchers: Matcher[] | undefined;
  try {
    matchers = raw.length ? parseMatchers(raw) : undefined;
  } catch (e) {
    throw new ApiError(400, (e as Error).message);
  }
  return { ...(state ? { state: state as AlertState } : {}), ...(matchers ? { matchers } : {}) };
}

const FP = /^[0-9a-f]{16}$/;

export function registerAlertingApi(api: ApiServer, alerting: Alerting): void {
  const listAlerts = (req: ApiRequest) => alerting.listAlerts(filters(req));
  const groups = () => alerting.listGroups();
  const listSilences = () => alerting.listSilences();
  const addSilence = (req: ApiRequest) => {
    try {
      return { silenceID: alerting.addSilence(req.body) };
    } catch (e) {
      throw new ApiError(400, (e as Error).message);
    }
  };
  const getSilence = (req: ApiRequest) => {
    const s = alerting.getSilence(req.params.id);
    if (!s) throw new ApiError(404, `no silence ${req.params.id}`);
    return s;
  };
  const expireSilence = (req: ApiRequest) => {
    if (!alerting.getSilence(req.params.id)) throw new ApiError(404, `no silence ${req.params.id}`);
    if (!alerting.expireSilence(req.params.id)) throw new ApiError(400, `silence ${req.params.id} has already expired`);
    return { silenceID: req.params.id, status: { state: 'expired' } };
  };

  api.route('GET', '/api/alerts', listAlerts);
  api.route('GET', '/api/alerts/groups', groups);
  api.route('POST', '/api/alerts/:fingerprint/ack', (req) => {
    const fp = req.params.fingerprint;
    if (!FP.test(fp)) throw new ApiError(400, 'a fingerprint is 16 lowercase hex digits');
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const by = typeof body.by === 'string' && body.by ? body.by.slice(0, 256) : 'api';
    const comment = typeof body.comment === 'string' ? body.comment.slice(0, 4096) : '';
    const ack = alerting.acknowledge(fp, by, comment);
    if (!ack) throw new ApiError(404, `no firing alert with fingerprint ${fp}`);
    return { fingerprint: fp, acknowledged: { by: ack.by, comment: ack.comment, at: new Date(ack.at).toISOString() } };
  });
  api.route('GET', '/api/silences', listSilences);
  api.route('POST', '/api/silences', addSilence);
  api.route('GET', '/api/silences/:id', getSilence);
  api.route('DELETE', '/api/silences/:id', expireSilence);

  deliveryChannels(api); // the route exists even before a notification exporter starts
  registerAlertmanagerApi(api, alerting);
}
