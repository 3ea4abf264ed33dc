/**
 * `github` exporter: one GitHub issue per alert group. The issue body carries a hidden marker
 * (hash of receiver and group key), so a group finds its issue again after a restart and never
 * opens a second one: it is commented on when the group fires again, changes or escalates,
 * closed with a comment when the group resolves, and reopened if it fires after that.
 */
import type * as OctokitRest from '@octokit/rest';
import type * as PluginRetry from '@octokit/plugin-retry';
import type * as PluginThrottling from '@octokit/plugin-throttling';
import { lazy } from '../../src/util/lazy';
import type { CreateSettings, ExporterFactory } from '../../src/component';
import { PermanentError, RetryableError } from '../../src/errors';
import { ExporterHelperConfig, exporterHelperProperties } from '../../src/exporterhelper';
import type { Notification } from '../../src/alerting/notification';
import { durationSchema, parseDuration } from '../../src/util/duration';
import { deliveryId } from '../webhook';
import { ReceiversConfig, createNotificationExporter, receiversSchema } from '../webhook/notify';
import { NotifyTemplate, templateData, templateError } from '../webhook/template';
import { Pacer } from './pacer';
import { TlsClientConfig, tlsClientProblems, tlsClientSchema } from '../../src/tls/config';
import { TlsFetch, tlsFetch } from '../../src/tls/fetch';
import { commentBody, findMarker, groupHash, groupLabelsText, issueBody, legacyGroupHash } from './render';

export interface GithubConfig extends ExporterHelperConfig, ReceiversConfig {
  repository: string;
  token: string;
  base_url: string;
  label: string;
  labels: string[];
  alert_labels: string[];
  title: string;
  reopen: boolean;
  comment_on_repeat: boolean;
  write_interval: string | number;
  content_interval: string | number;
  max_rate_limit_wait: string | number;
  api_retries: number;
  lookup_pages: number;
  /** The shared client tls block (src/tls), for GitHub Enterprise Server behind a private CA or mTLS. */
  tls?: TlsClientConfig;
}

interface IssueRef {
  number: number;
  state: 'open' | 'closed';
  labels: Set<string>;
  /** Fingerprints firing at the last notification we handled (to tell a repeat from a change). */
  firing?: string;
}

const MAX_CACHED_GROUPS = 10_000;
const MAX_LABEL_LEN = 50; // GitHub's limit on label names

/* eslint-disable @typescript-eslint/no-require-imports */
const pacedOctokit = lazy(() =>
  (require('@octokit/rest') as typeof OctokitRest).Octokit.plugin(
    (require('@octokit/plugin-retry') as typeof PluginRetry).retry,
    (require('@octokit/plugin-throttling') as typeof PluginThrottling).throttling,
  ),
);
/* eslint-enable @typescript-eslint/no-require-imports */
type Client = InstanceType<ReturnType<typeof pacedOctokit>>;

function firingSet(n: Notification): string {
  return n.payload.alerts.filter((a) => a.status === 'firing').map((a) => a.fingerprint).sort().join(',');
}

/** GitHub's failures for the exporterhelper: rate limits and 5xx retry (after the reset), the rest is permanent. */
export function classifyGithubError(e: unknown, what: string): Error {
  const err = e as Error & { status?: number; response?: { headers?: Record<string, string | undefined> } };
  const status = err.status ?? 0;
  const h = err.response?.headers ?? {};
  const msg = `GitHub ${what}: ${status || ''} ${String(err.message).split('\n')[0].slice(0, 200)}`.replace(/\s+/g, ' ');
  const retryAfter = Number(h['retry-after']);
  const reset = Number(h['x-ratelimit-reset']);
  const wait = retryAfter > 0 ? retryAfter * 1000 : h['x-ratelimit-remaining'] === '0' && reset > 0 ? Math.max(0, reset * 1000 - Date.now()) + 1000 : undefined;
  const limited = status === 429 || (status === 403 && (wait !== undefined || /rate limit/i.test(err.message)));
  if (limited) return new RetryableError(msg, wait ?? 60_000, true);
  // octokit reports network failures as status 500 without a response.
  if (status >= 500 || status === 0 || !err.response) return new RetryableError(msg, wait);
  return new PermanentError(msg);
}

export const githubExporterFactory: ExporterFactory<GithubConfig> = {
  kind: 'exporter',
  type: 'github',
  description: 'Opens a GitHub issue per alert group (never twice), comments on re-fire and escalation, closes it on resolve.',
  signals: ['logs'],
  mutatesData: false,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['repository', 'token'],
    properties: {
      repository: { type: 'string', pattern: '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$', description: 'owner/repo where issues are opened.' },
      token: { type: 'string', minLength: 1, secret: true, description: 'Token with issues read/write; use ${env:GITHUB_TOKEN}. Never logged.' },
      base_url: { type: 'string', default: 'https://api.github.com', description: 'REST API root; for GitHub Enterprise Server https://HOST/api/v3.' },
      label: { type: 'string', minLength: 1, maxLength: MAX_LABEL_LEN, default: 'vigil-alert', description: 'Label on every issue Vigil manages; issues are looked up by it.' },
      labels: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'More labels on every issue.' },
      alert_labels: { type: 'array', items: { type: 'string' }, default: ['severity'], description: 'Alert label names copied as `name:value` issue labels (from the common labels).' },
      title: { type: 'string', default: '{{ .GroupLabelsText }}{{ .TitleSummary }}', description: 'Issue title template.' },
      reopen: { type: 'boolean', default: true, description: 'Reopen the group\'s closed issue when it fires again (false: leave it closed, comment only).' },
      comment_on_repeat: { type: 'boolean', default: false, description: 'Comment on every repeat notification, not only on changes and escalations.' },
      write_interval: durationSchema('1s', 'Minimum time between any two write requests.'),
      content_interval: durationSchema('3s', 'Minimum time between two content creations (new issue, comment).'),
      max_rate_limit_wait: durationSchema('60s', 'Wait inside one attempt for a rate limit to pass up to this long; longer waits go back to the retry queue.'),
      api_retries: { type: 'integer', minimum: 0, maximum: 10, default: 2, description: 'Immediate retries of a failed API call (5xx, network) inside one attempt.' },
      lookup_pages: { type: 'integer', minimum: 1, default: 10, description: 'Pages of 100 labelled issues searched for a group\'s marker.' },
      receivers: receiversSchema,
      tls: tlsClientSchema,
      ...exporterHelperProperties({ timeout: '5m', sending_queue: { num_consumers: 1 }, retry_on_failure: { initial_interval: '10s', max_elapsed_time: '1h' } }),
    },
  },
  validate(c) {
    const e = templateError(c.title);
    return [...(e ? [{ path: ['title'], message: e }] : []), ...tlsClientProblems(c.tls)];
  },
  create(settings: CreateSettings<GithubConfig>) {
    return new GithubIssues(settings).exporter();
  },
};

export class GithubIssues {
  private readonly c: GithubConfig;
  private readonly http: TlsFetch;
  private readonly owner: string;
  private readonly repo: string;
  private readonly octokit: Client;
  private readonly title: NotifyTemplate;
  private readonly cache = new Map<string, IssueRef>();
  /** Per group: notifications of one group are handled one at a time, in order. */
  private readonly locks = new Map<string, Promise<void>>();
  /** Steps already done for a notification whose later step failed, so a retry skips them. */
  private readonly done = new Map<string, Set<string>>();

  constructor(private readonly settings: CreateSettings<GithubConfig>) {
    this.c = settings.config;
    [this.owner, this.repo] = this.c.repository.split('/');
    this.title = NotifyTemplate.compile(this.c.title);
    const maxWaitS = parseDuration(this.c.max_rate_limit_wait) / 1000;
    const log = settings.logger;
    const silent = () => undefined;
    this.http = tlsFetch(this.c.tls, `exporters.${settings.id}.tls`);
    this.octokit = new (pacedOctokit())({
      auth: this.c.token,
      request: { fetch: this.http.fetch },
      baseUrl: this.c.base_url.replace(/\/+$/, ''),
      userAgent: 'vigil-github-exporter/0.1',
      log: { debug: silent, info: silent, warn: silent, error: silent },
      retry: { retries: this.c.api_retries },
      throttle: {
        id: settings.id,
        write: new Pacer(parseDuration(this.c.write_interval)).asLimiterGroup() as never,
        notifications: new Pacer(parseDuration(this.c.content_interval)).asLimiterGroup() as never,
        onRateLimit: (after: number, _o: unknown, _k: unknown, count: number) => {
          log.warn({ retryAfterS: after }, 'GitHub primary rate limit reached');
          return count < 1 && after <= maxWaitS;
        },
        onSecondaryRateLimit: (after: number, _o: unknown, _k: unknown, count: number) => {
          log.warn({ retryAfterS: after }, 'GitHub secondary rate limit reached');
          return count < 2 && after <= maxWaitS;
        },
      },
    });
  }

  exporter() {
    const ex = createNotificationExporter(this.settings, ['logs'], {
      deliver: (n, record) => this.serialised(groupHash(n), () => this.handle(n, deliveryId(n, record))),
    });
    const shutdown = ex.shutdown;
    return { ...ex, shutdown: async () => { await shutdown?.(); this.http.close(); } };
  }

  private async serialised(key: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn);
    const settled = run.catch(() => undefined);
    this.locks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }

  /** Run a step once per notification, even across retries of that notification. */
  private async step(id: string, name: string, fn: () => Promise<void>): Promise<void> {
    const done = this.done.get(id);
    if (done?.has(name)) return;
    await fn();
    if (this.done.size > MAX_CACHED_GROUPS) this.done.delete(this.done.keys().next().value!);
    this.done.set(id, (done ?? new Set()).add(name));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw classifyGithubError(e, what);
    }
  }

  private remember(hash: string, ref: IssueRef): IssueRef {
    this.cache.delete(hash);
    if (this.cache.size >= MAX_CACHED_GROUPS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hash, ref);
    return ref;
  }

  /** The group's issue: from memory, else by its marker (or an earlier version's) among the issues with our label. */
  private async find(hash: string, legacy: string): Promise<IssueRef | undefined> {
    const cached = this.cache.get(hash);
    if (cached) return cached;
    for (let page = 1; page <= this.c.lookup_pages; page++) {
      const res = await this.call('list issues', () => this.octokit.rest.issues.listForRepo({
        owner: this.owner, repo: this.repo, labels: this.c.label, state: 'all', sort: 'created', direction: 'desc', per_page: 100, page,
      }));
      for (const issue of res.data) {
        const found = findMarker(issue.body);
        if (issue.pull_request || (found !== hash && found !== legacy)) continue;
        const labels = new Set(issue.labels.map((l) => (typeof l === 'string' ? l : l.name ?? '')));
        return this.remember(hash, { number: issue.number, state: issue.state === 'closed' ? 'closed' : 'open', labels });
      }
      if (res.data.length < 100) break;
    }
    return undefined;
  }

  private labelsFor(n: Notification): string[] {
    const out = new Set([this.c.label, ...this.c.labels]);
    for (const name of this.c.alert_labels) {
      const v = n.payload.commonLabels[name] ?? n.payload.groupLabels[name];
      if (v) out.add(`${name}:${v}`.slice(0, MAX_LABEL_LEN));
    }
    return [...out];
  }

  private async handle(n: Notification, id: string): Promise<void> {
    const hash = groupHash(n);
    const issue = await this.find(hash, legacyGroupHash(n));
    const p = { owner: this.owner, repo: this.repo };
    if (n.status === 'resolved') {
      if (!issue || issue.state === 'closed') return;
      // An escalation receiver is told about the escalated alerts only: while others of the group
      // still fire, their resolution is a comment, and the group's own notification closes the issue.
      const told = new Set(n.payload.alerts.map((a) => a.fingerprint));
      const stillFiring = (issue.firing ?? '').split(',').filter((fp) => fp && !told.has(fp));
      if (n.escalationPolicy !== undefined && stillFiring.length > 0) {
        await this.step(id, 'comment', () => this.call('comment', () => this.octokit.rest.issues.createComment({ ...p, issue_number: issue.number, body: commentBody(n, 'partly-resolved') })).then(() => undefined));
        issue.firing = stillFiring.join(',');
        return;
      }
      await this.step(id, 'comment', () => this.call('comment', () => this.octokit.rest.issues.createComment({ ...p, issue_number: issue.number, body: commentBody(n, 'resolved') })).then(() => undefined));
      await this.step(id, 'close', async () => {
        await this.call('close issue', () => this.octokit.rest.issues.update({ ...p, issue_number: issue.number, state: 'closed', state_reason: 'completed' }));
        issue.state = 'closed';
        issue.firing = undefined;
      });
      return;
    }

    const labels = this.labelsFor(n);
    const firing = firingSet(n);
    if (!issue) {
      await this.step(id, 'create', async () => {
        const data = templateData(n, { GroupLabelsText: groupLabelsText(n), TitleSummary: n.payload.commonAnnotations.summary ? `: ${n.payload.commonAnnotations.summary}` : '' });
        const title = this.title.render(data).replace(/[\r\n]+/g, ' ').trim().slice(0, 250) || `Alert ${hash}`;
        const res = await this.call('create issue', () => this.octokit.rest.issues.create({ ...p, title, body: issueBody(n, hash), labels }));
        this.remember(hash, { number: res.data.number, state: 'open', labels: new Set(labels), firing });
      });
      return;
    }

    // After a restart the last firing set is unknown: stay quiet rather than comment on a repeat.
    const why = issue.state === 'closed' ? 'refired'
      : n.escalationStep !== undefined ? 'escalated'
        : issue.firing !== undefined && issue.firing !== firing ? 'changed'
          : this.c.comment_on_repeat ? 'repeat'
            : undefined;
    if (issue.state === 'closed' && !this.c.reopen) {
      // Left closed on purpose: note the re-fire once, keep tracking.
      await this.step(id, 'comment', () => this.call('comment', () => this.octokit.rest.issues.createComment({ ...p, issue_number: issue.number, body: commentBody(n, 'refired') })).then(() => undefined));
      return;
    }
    if (why) {
      await this.step(id, 'comment', () => this.call('comment', () => this.octokit.rest.issues.createComment({ ...p, issue_number: issue.number, body: commentBody(n, why) })).then(() => undefined));
    }
    if (issue.state === 'closed') {
      await this.step(id, 'reopen', async () => {
        await this.call('reopen issue', () => this.octokit.rest.issues.update({ ...p, issue_number: issue.number, state: 'open' }));
        issue.state = 'open';
      });
    }
    const missing = labels.filter((l) => !issue.labels.has(l));
    if (missing.length) {
      await this.step(id, 'labels', async () => {
        await this.call('add labels', () => this.octokit.rest.issues.addLabels({ ...p, issue_number: issue.number, labels: missing }));
        for (const l of missing) issue.labels.add(l);
      });
    }
    // An escalation names only the alerts it escalates, not the group's firing set.
    if (n.escalationStep === undefined) issue.firing = firing;
  }
}
