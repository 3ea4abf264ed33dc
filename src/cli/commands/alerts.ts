/**
 * `vigil alerts list|ack` and `vigil silences list|add|expire`: thin clients of the alerting HTTP
 * API (the `api` extension, http://127.0.0.1:8686 by default; `--api URL` or VIGIL_API to change,
 * `--token` or VIGIL_API_TOKEN when the API requires a bearer token).
 */
import type { Command } from '../command';
import { Flags, UsageError, apiCommand, callApi, one, table as padTable } from '../api-client';
import { parseDuration } from '../../util/duration';
import { parseMatchers, toApiMatcher } from '../../alerting/matchers';

const COMMON_FLAGS = '[--api URL] [--token TOKEN] [--json]';
const BOOLEANS = new Set(['json', 'help', 'expired']);

const call = callApi;

function labelsText(l: Record<string, string>, skip: string[] = []): string {
  return Object.entries(l).filter(([k]) => !skip.includes(k)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
}

const command = (name: string, summary: string, usage: string, body: (f: Flags) => Promise<number>): Command => apiCommand(name, summary, usage, BOOLEANS, body);

interface AlertRow {
  fingerprint: string; alertname: string; state: string; since: string; labels: Record<string, string>;
  status: { state: string }; acknowledged?: { by: string };
}

export const alertsListCommand = command('alerts list', 'List alerts with their state, fingerprint, labels and since when',
  `vigil alerts list [--state pending|firing|resolved] [--filter MATCHER]... ${COMMON_FLAGS}`,
  async (f) => {
    const q = new URLSearchParams();
    const state = one(f, 'state');
    if (state) q.set('state', state);
    for (const m of f.values.get('filter') ?? []) q.append('filter', m);
    const list = (await call(f, 'GET', `/api/alerts${q.size ? `?${q}` : ''}`)) as AlertRow[];
    if (f.bools.has('json')) { process.stdout.write(JSON.stringify(list, null, 2) + '\n'); return 0; }
    const rows = [['FINGERPRINT', 'STATE', 'SINCE', 'ALERTNAME', 'STATUS', 'ACK', 'LABELS']];
    for (const a of list) {
      rows.push([a.fingerprint, a.state, a.since, a.alertname, a.status.state, a.acknowledged ? a.acknowledged.by : '-', labelsText(a.labels, ['alertname'])]);
    }
    process.stdout.write(padTable(rows));
    return 0;
  });

export const alertsAckCommand = command('alerts ack', 'Acknowledge a firing alert (stops its escalation)',
  `vigil alerts ack FINGERPRINT [--by NAME] [--comment TEXT] ${COMMON_FLAGS}`,
  async (f) => {
    const fp = f.rest[0];
    if (!fp) throw new UsageError('which alert? give its fingerprint (see vigil alerts list)');
    const by = one(f, 'by') ?? process.env.USER ?? 'cli';
    const res = await call(f, 'POST', `/api/alerts/${encodeURIComponent(fp)}/ack`, { by, comment: one(f, 'comment') ?? '' });
    if (f.bools.has('json')) process.stdout.write(JSON.stringify(res, null, 2) + '\n');
    else process.stdout.write(`acknowledged ${fp} as ${by}\n`);
    return 0;
  });

interface SilenceRow {
  id: string; matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean }>;
  startsAt: string; endsAt: string; createdBy: string; comment: string; status: { state: string };
}

function matcherText(m: SilenceRow['matchers'][number]): string {
  const op = m.isRegex ? (m.isEqual === false ? '!~' : '=~') : (m.isEqual === false ? '!=' : '=');
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}

export const silencesListCommand = command('silences list', 'List active and pending silences (--expired for expired ones too)',
  `vigil silences list [--expired] ${COMMON_FLAGS}`,
  async (f) => {
    const list = ((await call(f, 'GET', '/api/silences')) as SilenceRow[]).filter((s) => f.bools.has('expired') || s.status.state !== 'expired');
    if (f.bools.has('json')) { process.stdout.write(JSON.stringify(list, null, 2) + '\n'); return 0; }
    const rows = [['ID', 'STATE', 'ENDS', 'CREATED BY', 'MATCHERS', 'COMMENT']];
    for (const s of list) rows.push([s.id, s.status.state, s.endsAt, s.createdBy, s.matchers.map(matcherText).join(' '), s.comment]);
    process.stdout.write(padTable(rows));
    return 0;
  });

export const silencesAddCommand = command('silences add', 'Silence alerts matching the matchers (all must match)',
  `vigil silences add MATCHER... --comment TEXT [--author NAME] [--duration 1h | --end TIME] [--start TIME] ${COMMON_FLAGS}`,
  async (f) => {
    if (!f.rest.length) throw new UsageError('give at least one matcher, e.g. alertname="HighLatency" or instance=~"db-.*"');
    let matchers;
    try {
      matchers = parseMatchers(f.rest).map(toApiMatcher);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const comment = one(f, 'comment');
    if (!comment) throw new UsageError('--comment is required (say why)');
    const start = one(f, 'start') ? Date.parse(one(f, 'start')!) : Date.now();
    if (!Number.isFinite(start)) throw new UsageError('--start must be a time such as 2025-01-01T10:00:00Z');
    let end: number;
    if (one(f, 'end')) {
      end = Date.parse(one(f, 'end')!);
      if (!Number.isFinite(end)) throw new UsageError('--end must be a time such as 2025-01-01T12:00:00Z');
    } else {
      try {
        end = start + parseDuration(one(f, 'duration') ?? '1h');
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const body = {
      matchers, startsAt: new Date(start).toISOString(), endsAt: new Date(end).toISOString(),
      createdBy: one(f, 'author') ?? process.env.USER ?? 'cli', comment,
    };
    const res = (await call(f, 'POST', '/api/silences', body)) as { silenceID: string };
    if (f.bools.has('json')) process.stdout.write(JSON.stringify(res, null, 2) + '\n');
    else process.stdout.write(`${res.silenceID}\n`);
    return 0;
  });

export const silencesExpireCommand = command('silences expire', 'Expire silences now',
  `vigil silences expire ID... ${COMMON_FLAGS}`,
  async (f) => {
    if (!f.rest.length) throw new UsageError('which silence? give its id (see vigil silences list)');
    for (const id of f.rest) {
      await call(f, 'DELETE', `/api/silences/${encodeURIComponent(id)}`);
      if (!f.bools.has('json')) process.stdout.write(`expired ${id}\n`);
    }
    return 0;
  });

export const alertingCommands: Command[] = [alertsListCommand, alertsAckCommand, silencesListCommand, silencesAddCommand, silencesExpireCommand];
