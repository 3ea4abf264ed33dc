/**
 * `audit` receiver: Vigil's own audit log (`<data_dir>/audit.db`: API state changes and refusals,
 * `vigil erase`, `vigil rekey`) as OTLP log records, so it can go through a logs pipeline to any
 * exporter (a SIEM over otlphttp, a file, the store). It follows the file rather than hooking the
 * API, so records written by the CLI in another process are exported too. The last exported
 * sequence number is kept in the state store: after a restart export resumes where it stopped, and
 * a record is only marked exported once the pipeline accepted it (a refusal is retried next poll).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Component, CreateSettings, ReceiverFactory, SignalConsumers } from '../../src/component';
import type { LogRecord, Logs } from '../../src/model';
import { Severity } from '../../src/model/logs';
import { StateStore } from '../../src/state';
import { auditPath } from '../../src/storage/audit';
import { openSqlite, SqliteDatabase } from '../../src/storage/sqlite';
import { durationSchema, parseDuration } from '../../src/util/duration';

export interface AuditReceiverConfig {
  path?: string;
  poll_interval: string | number;
  start_at: 'beginning' | 'end';
  max_batch: number;
}

interface AuditRow {
  seq: number; time_ms: number; principal: string | null; role: string | null; remote: string; action: string;
  target: string; outcome: string; status: number; detail: string | null; prev_hash: string; hash: string;
}

const EVENT_NAME = 'vigil.audit';

/** One audit record as a log record: the fields as `vigil.audit.*` attributes, the hash chain included. */
export function auditLogRecord(r: AuditRow): LogRecord {
  const t = BigInt(r.time_ms) * 1_000_000n;
  const attributes: Record<string, string | number> = {
    'vigil.audit.seq': r.seq,
    'vigil.audit.action': r.action,
    'vigil.audit.target': r.target,
    'vigil.audit.outcome': r.outcome,
    'vigil.audit.status': r.status,
    'vigil.audit.principal': r.principal ?? 'anonymous',
    'vigil.audit.remote': r.remote,
    'vigil.audit.hash': r.hash,
    'vigil.audit.prev_hash': r.prev_hash,
  };
  if (r.role) attributes['vigil.audit.role'] = r.role;
  if (r.detail) attributes['vigil.audit.detail'] = r.detail;
  return {
    timeUnixNano: t, observedTimeUnixNano: BigInt(Date.now()) * 1_000_000n,
    severityNumber: r.outcome === 'ok' ? Severity.INFO : Severity.WARN, severityText: r.outcome === 'ok' ? 'INFO' : 'WARN',
    body: `${r.principal ?? 'anonymous'} ${r.action} ${r.target}: ${r.outcome} (${r.status})`,
    attributes, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: EVENT_NAME,
  } as LogRecord;
}

export class AuditReceiver implements Component {
  private timer?: NodeJS.Timeout;
  private db?: SqliteDatabase;
  private state?: StateStore;
  private next = 0;
  private busy = false;
  private readonly path: string;

  constructor(private readonly s: CreateSettings<AuditReceiverConfig>, private readonly consumers: SignalConsumers) {
    const p = s.config.path;
    this.path = p ? (isAbsolute(p) ? p : join(process.cwd(), p)) : auditPath(s.dataDir);
  }

  async start(): Promise<void> {
    this.state = StateStore.open(this.s.dataDir);
    const saved = this.state.get<number>(`receiver/${this.s.id}`, 'next_seq');
    this.next = saved ?? (this.s.config.start_at === 'end' ? -1 : 1);
    await this.poll();
    this.timer = setInterval(() => void this.poll(), parseDuration(this.s.config.poll_interval));
    this.timer.unref();
  }

  /** Export the records after the last exported one, a batch at a time. */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (!this.db) {
        if (!existsSync(this.path)) return;
        this.db = openSqlite(this.path, { readonly: true, fileMustExist: true, timeout: 5000 });
      }
      if (this.next === -1) {
        // start_at: end, first run: only records written from now on.
        this.next = Number(this.db.prepare('SELECT coalesce(max(seq), 0) + 1 FROM audit_log').pluck().get());
        this.save();
      }
      for (;;) {
        const rows = this.db.prepare('SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?').all(this.next, this.s.config.max_batch) as AuditRow[];
        if (!rows.length) return;
        const logs: Logs = { resourceLogs: [{
          resource: { attributes: { 'service.name': 'vigil' }, droppedAttributesCount: 0 }, schemaUrl: '',
          scopeLogs: [{ scope: { name: 'vigil.audit', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', logRecords: rows.map(auditLogRecord) }],
        }] };
        await this.consumers.logs!.consume(logs);
        this.next = rows[rows.length - 1].seq + 1;
        this.save();
        if (rows.length < this.s.config.max_batch) return;
      }
    } catch (e) {
      // The position stays: the same records are offered again at the next poll.
      this.s.logger.warn({ err: (e as Error).message }, 'audit receiver: export of audit records failed; retrying');
    } finally {
      this.busy = false;
    }
  }

  private save(): void {
    this.state?.put(`receiver/${this.s.id}`, 'next_seq', this.next);
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 10));
    this.db?.close();
    this.state?.release();
  }
}

export const auditReceiverFactory: ReceiverFactory<AuditReceiverConfig> = {
  kind: 'receiver',
  type: 'audit',
  description: "Vigil's own audit log (API state changes and refusals, erase, rekey) as OTLP log records, for any logs pipeline.",
  signals: ['logs'],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      path: { type: 'string', minLength: 1, description: 'The audit log file (default <service.data_dir>/audit.db).' },
      poll_interval: durationSchema('1s', 'How often new audit records are looked for.'),
      start_at: { enum: ['beginning', 'end'], default: 'beginning', description: 'On the very first start: export the whole log, or only records written from then on. Later starts resume where export stopped.' },
      max_batch: { type: 'integer', minimum: 1, default: 500, description: 'Records per log batch.' },
    },
  },
  create: (settings, next) => new AuditReceiver(settings, next),
};
